// Test-side Kubernetes helpers on the shared client (kube/): a client for a kubeconfig,
// namespaces, typed reads of the Gatehouse kinds, and the objects the sp-server reads written the
// way the operator leaves them (the rendered config Secret, SSOProfile and ManagedUser status by
// server-side apply with the operator's field manager).
import { API_VERSION, GROUP, VERSION, type ManagedUser, type SSOProfile, type VerifiedDomain } from '../../crds/api/index.ts';
import { isNotFound, KubeApiError, KubeClient, resourcePath } from '../../kube/client.ts';
import { loadCredentials } from '../../kube/kubeconfig.ts';
import type { SPConfig } from '../../crds/api/index.ts';

export type GatehousePlural = 'verifieddomains' | 'managedusers' | 'ssoprofiles' | 'managedgroups';

/**
 * The kubeconfig's user on the shared client, or, with `impersonate`, that user acting as
 * another (`kubectl --as`): how tests take a ServiceAccount's permissions. Close it when done.
 */
export async function testClient(kubeconfig: string, o: { impersonate?: string } = {}): Promise<KubeClient> {
  const creds = await loadCredentials(kubeconfig);
  const as = o.impersonate;
  const effective = as ? { ...creds, headers: async () => ({ ...(await creds.headers()), 'impersonate-user': as }) } : creds;
  return KubeClient.create(effective, { userAgent: 'gatehouse-tests', connections: 16 });
}

/** The HTTP status a call ends with: 200 when it succeeds, the API server's code when it is refused. */
export async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (err) {
    if (err instanceof KubeApiError) return err.code;
    throw err;
  }
}

export const crPath = (plural: GatehousePlural, ns: string, name?: string) => resourcePath({ group: GROUP, version: VERSION, plural }, ns, name);
export const secretPath = (ns: string, name?: string) => resourcePath({ group: '', version: 'v1', plural: 'secrets' }, ns, name);
export const MERGE_PATCH = 'application/merge-patch+json';

export async function createNamespace(client: KubeClient, name: string, labels?: Record<string, string>): Promise<void> {
  await client.call('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels } : {}) } } });
}

/** Namespaces never finish deleting without a controller-manager; this still removes the objects' watch noise. */
export async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  await client.call('DELETE', `/api/v1/namespaces/${name}`).catch(() => undefined);
}

/** Deletes the Gatehouse objects and Secrets in a namespace (nothing else would), then the namespace. */
export async function deleteNamespaceContents(client: KubeClient, namespace: string): Promise<void> {
  for (const plural of ['managedusers', 'ssoprofiles'] as const) await client.call('DELETE', crPath(plural, namespace)).catch(() => undefined);
  await client.call('DELETE', secretPath(namespace)).catch(() => undefined);
  await deleteNamespace(client, namespace);
}

export async function create<T>(client: KubeClient, plural: GatehousePlural, ns: string, obj: { kind: string; metadata: { name: string }; spec: unknown }): Promise<T> {
  return client.call<T>('POST', crPath(plural, ns), { body: { apiVersion: API_VERSION, ...obj, metadata: { ...obj.metadata, namespace: ns } } });
}

export const getDomain = (c: KubeClient, ns: string, name: string) => c.call<VerifiedDomain>('GET', crPath('verifieddomains', ns, name));
export const getUser = (c: KubeClient, ns: string, name: string) => c.call<ManagedUser>('GET', crPath('managedusers', ns, name));
export const getProfile = (c: KubeClient, ns: string, name: string) => c.call<SSOProfile>('GET', crPath('ssoprofiles', ns, name));

/** The object, or undefined when there is none. */
export async function getIfExists<T>(c: KubeClient, path: string): Promise<T | undefined> {
  try {
    return await c.call<T>('GET', path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

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

/**
 * Opens a watch and resolves with the first event's type once the API server streams one;
 * rejects with the KubeApiError when the watch is refused.
 */
export async function firstWatchEvent(c: KubeClient, path: string, query: Record<string, string> = {}): Promise<string> {
  const stop = new AbortController();
  try {
    for await (const line of c.watchLines(path, { ...query, timeoutSeconds: 10 }, stop.signal)) return (JSON.parse(line) as { type: string }).type;
    throw new Error(`watch ${path} ended without an event`);
  } finally {
    stop.abort();
  }
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

/** The rendered config Secret as the operator writes it (server-side apply, its field manager). */
export async function applyConfigSecret(k: KubeClient, namespace: string, name: string, config: SPConfig | string): Promise<void> {
  const text = typeof config === 'string' ? config : JSON.stringify(config);
  await k.apply(
    secretPath(namespace, name),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels: { 'sso.gatehouse.dev/rendered-config': 'true' } }, type: 'Opaque', data: { 'config.json': Buffer.from(text).toString('base64') } },
    'gatehouse-operator',
  );
}

export interface UserSpec {
  name: string;
  email: string;
  roles?: string[];
  active?: boolean;
  enforced?: boolean;
  profile?: string;
}

/** A ManagedUser as an admin writes it, with status.sso as the operator decided it. */
export async function applyManagedUser(k: KubeClient, namespace: string, u: UserSpec): Promise<void> {
  const path = crPath('managedusers', namespace, u.name);
  await k.apply(path, { apiVersion: API_VERSION, kind: 'ManagedUser', metadata: { name: u.name, namespace }, spec: { email: u.email, roles: u.roles ?? ['member'], active: u.active ?? true } }, 'kubectl');
  await k.apply(
    path,
    {
      apiVersion: API_VERSION,
      kind: 'ManagedUser',
      metadata: { name: u.name, namespace },
      status: { sso: { available: true, enforced: u.enforced ?? false, ...(u.profile ? { profile: u.profile } : {}), reason: u.enforced ? 'DomainEnforced' : 'NotEnforced' } },
    },
    'gatehouse-operator',
    { subresource: 'status' },
  );
}

/** An SSOProfile as an admin writes it, and optionally the status the operator would give it. */
export async function applySSOProfile(k: KubeClient, namespace: string, name: string, spec: Record<string, unknown>, operatorStatus?: Record<string, unknown>): Promise<void> {
  const path = crPath('ssoprofiles', namespace, name);
  await k.apply(path, { apiVersion: API_VERSION, kind: 'SSOProfile', metadata: { name, namespace }, spec }, 'kubectl');
  if (operatorStatus) await k.apply(path, { apiVersion: API_VERSION, kind: 'SSOProfile', metadata: { name, namespace }, status: operatorStatus }, 'gatehouse-operator', { subresource: 'status' });
}
