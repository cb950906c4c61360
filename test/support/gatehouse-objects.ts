// Creates the objects the sp-server reads on a test API server, the way the operator would leave
// them: the rendered config Secret, SSOProfiles and ManagedUsers with status.sso (status
// subresource, field manager gatehouse-operator).
import { API_VERSION, GROUP, VERSION } from '../../crds/api/index.ts';
import { isConflict, type KubeClient } from '../../kube/client.ts';
import type { SPConfig } from '../../crds/api/index.ts';
import { testClient, waitFor } from './kube.ts';

export const kubeClient = testClient;

export async function createNamespace(k: KubeClient, name: string): Promise<void> {
  await k.call('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } }).catch((err: unknown) => {
    if (!isConflict(err)) throw err;
  });
}

export async function applyConfigSecret(k: KubeClient, namespace: string, name: string, config: SPConfig | string): Promise<void> {
  const text = typeof config === 'string' ? config : JSON.stringify(config);
  await k.apply(
    `/api/v1/namespaces/${namespace}/secrets/${name}`,
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

export async function applyManagedUser(k: KubeClient, namespace: string, u: UserSpec): Promise<void> {
  const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/managedusers/${u.name}`;
  await k.apply(path, { apiVersion: API_VERSION, kind: 'ManagedUser', metadata: { name: u.name, namespace }, spec: { email: u.email, roles: u.roles ?? ['member'], active: u.active ?? true } }, 'kubectl');
  await k.apply(
    `${path}/status`,
    {
      apiVersion: API_VERSION,
      kind: 'ManagedUser',
      metadata: { name: u.name, namespace },
      status: { sso: { available: true, enforced: u.enforced ?? false, ...(u.profile ? { profile: u.profile } : {}), reason: u.enforced ? 'DomainEnforced' : 'NotEnforced' } },
    },
    'gatehouse-operator',
  );
}

export async function applySSOProfile(k: KubeClient, namespace: string, name: string, spec: Record<string, unknown>, operatorStatus?: Record<string, unknown>): Promise<void> {
  const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/ssoprofiles/${name}`;
  await k.apply(path, { apiVersion: API_VERSION, kind: 'SSOProfile', metadata: { name, namespace }, spec }, 'kubectl');
  if (operatorStatus) await k.apply(`${path}/status`, { apiVersion: API_VERSION, kind: 'SSOProfile', metadata: { name, namespace }, status: operatorStatus }, 'gatehouse-operator');
}

export async function getObject(k: KubeClient, path: string): Promise<Record<string, any>> {
  return k.call<Record<string, any>>('GET', path);
}

export async function deleteNamespaceContents(k: KubeClient, namespace: string): Promise<void> {
  const del = (path: string) => k.call('DELETE', path).catch(() => undefined);
  for (const plural of ['managedusers', 'ssoprofiles']) await del(`/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`);
  await del(`/api/v1/namespaces/${namespace}/secrets`);
  await del(`/api/v1/namespaces/${namespace}`);
}

/** Polls until `fn` returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  return waitFor(what, async () => (await fn()) || undefined, timeoutMs, undefined, 50);
}
