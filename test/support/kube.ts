// Test-side Kubernetes helpers: an API client, namespaces, typed reads and polling with a deadline.
import { API_VERSION, GROUP, VERSION, type ManagedUser, type SSOProfile, type VerifiedDomain } from '../../crds/api/index.ts';
import { KubeClient, resourcePath } from '../../kube/client.ts';
import { loadCredentials } from '../../kube/kubeconfig.ts';

export async function testClient(kubeconfig: string): Promise<KubeClient> {
  return KubeClient.create(await loadCredentials(kubeconfig), { userAgent: 'gatehouse-tests', connections: 16 });
}

export const crPath = (plural: 'verifieddomains' | 'managedusers' | 'ssoprofiles', ns: string, name?: string) =>
  resourcePath({ group: GROUP, version: VERSION, plural }, ns, name);

export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.call('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
}

/** Namespaces never finish deleting without a controller-manager; this still removes the objects' watch noise. */
export async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  await client.call('DELETE', `/api/v1/namespaces/${name}`).catch(() => undefined);
}

export async function create<T>(client: KubeClient, plural: 'verifieddomains' | 'managedusers' | 'ssoprofiles', ns: string, obj: { kind: string; metadata: { name: string }; spec: unknown }): Promise<T> {
  return client.call<T>('POST', crPath(plural, ns), { body: { apiVersion: API_VERSION, ...obj, metadata: { ...obj.metadata, namespace: ns } } });
}

export const getDomain = (c: KubeClient, ns: string, name: string) => c.call<VerifiedDomain>('GET', crPath('verifieddomains', ns, name));
export const getUser = (c: KubeClient, ns: string, name: string) => c.call<ManagedUser>('GET', crPath('managedusers', ns, name));
export const getProfile = (c: KubeClient, ns: string, name: string) => c.call<SSOProfile>('GET', crPath('ssoprofiles', ns, name));

export async function listUsers(c: KubeClient, ns: string): Promise<ManagedUser[]> {
  const out: ManagedUser[] = [];
  let cont: string | undefined;
  do {
    const page = await c.call<{ items: ManagedUser[]; metadata: { continue?: string } }>('GET', crPath('managedusers', ns), { query: { limit: 1000, continue: cont } });
    out.push(...page.items);
    cont = page.metadata.continue || undefined;
  } while (cont);
  return out;
}

/** Polls `probe` until it returns a value that is not undefined/false, or throws with the last state. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, describe?: () => Promise<string> | string, intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const detail = describe ? await describe() : lastErr ? String(lastErr) : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${detail}` : ''}`);
}

export const condition = (obj: { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } }, type: string) =>
  obj.status?.conditions?.find((c) => c.type === type);

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) await fn(items[i++] as T);
  }));
}
