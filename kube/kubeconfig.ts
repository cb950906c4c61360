// API server credentials from a kubeconfig file or the in-cluster service account, without
// loading @kubernetes/client-node: its generated API surface costs ~35 MiB of heap, a third of
// the operator's working set with 10,000 users. Kubeconfigs that need exec or auth-provider
// plugins fall back to client-node, loaded only then.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

export interface Credentials {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTLSVerify: boolean;
  /** Authentication headers, re-read when they can change (rotating token files, plugins). */
  headers(): Promise<Record<string, string>>;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const kubeconfigSchema = z.object({
  'current-context': z.string().optional(),
  clusters: z.array(z.object({ name: z.string(), cluster: z.looseObject({ server: z.string() }) })).default([]),
  users: z.array(z.object({ name: z.string(), user: z.looseObject({}).nullish() })).default([]),
  contexts: z.array(z.object({ name: z.string(), context: z.looseObject({ cluster: z.string(), user: z.string().optional() }) })).default([]),
});

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export async function loadCredentials(path: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Credentials> {
  const file = path ?? env.KUBECONFIG?.split(':')[0];
  if (file) return fromKubeconfig(file);
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(SA_DIR, 'token'))) return inCluster(env);
  return fromKubeconfig(join(homedir(), '.kube', 'config'));
}

function inCluster(env: NodeJS.ProcessEnv): Credentials {
  const host = env.KUBERNETES_SERVICE_HOST as string;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(SA_DIR, 'ca.crt')),
    insecureSkipTLSVerify: false,
    // Projected service-account tokens rotate: read the file each time (the client caches a minute).
    headers: async () => ({ authorization: `Bearer ${readFileSync(join(SA_DIR, 'token'), 'utf8').trim()}` }),
  };
}

async function fromKubeconfig(file: string): Promise<Credentials> {
  const doc = kubeconfigSchema.parse(parse(readFileSync(file, 'utf8')));
  const ctxName = doc['current-context'];
  const ctx = doc.contexts.find((c) => c.name === ctxName) ?? doc.contexts[0];
  if (!ctx) throw new Error(`kubeconfig ${file} has no context`);
  const cluster = doc.clusters.find((c) => c.name === ctx.context.cluster)?.cluster;
  if (!cluster) throw new Error(`kubeconfig ${file}: cluster ${ctx.context.cluster} not found`);
  const user = (doc.users.find((u) => u.name === ctx.context.user)?.user ?? {}) as Record<string, unknown>;
  const base = dirname(file);
  const readRef = (data: unknown, ref: unknown): Buffer | undefined => {
    if (str(data)) return Buffer.from(data as string, 'base64');
    if (str(ref)) return readFileSync(isAbsolute(ref as string) ? (ref as string) : join(base, ref as string));
    return undefined;
  };
  const creds = {
    server: cluster.server,
    ca: readRef(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: readRef(user['client-certificate-data'], user['client-certificate']),
    key: readRef(user['client-key-data'], user['client-key']),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
  };
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    if (ctxName) kc.setCurrentContext(ctxName);
    return {
      ...creds,
      headers: async () => {
        const opts: { headers?: Record<string, unknown> } = {};
        await kc.applyToHTTPSOptions(opts);
        return Object.fromEntries(Object.entries(opts.headers ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string').map(([k, v]) => [k.toLowerCase(), v]));
      },
    };
  }
  const token = str(user.token);
  const tokenFile = str(user.tokenFile);
  const username = str(user.username);
  return {
    ...creds,
    headers: async (): Promise<Record<string, string>> => {
      if (token) return { authorization: `Bearer ${token}` };
      if (tokenFile) return { authorization: `Bearer ${readFileSync(isAbsolute(tokenFile) ? tokenFile : join(base, tokenFile), 'utf8').trim()}` };
      if (username) return { authorization: `Basic ${Buffer.from(`${username}:${str(user.password) ?? ''}`).toString('base64')}` };
      return {};
    },
  };
}
