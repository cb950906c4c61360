// API-server credentials for every component. The in-cluster service account and kubeconfigs with
// a static user are read directly (kubeconfig-static.ts); everything else kubectl accepts — exec
// credential plugins, OIDC and other auth providers, merged KUBECONFIG lists — is loaded by
// @kubernetes/client-node's KubeConfig, imported only then: it costs about 30 MiB of memory. The
// calls themselves go through kube/client.ts (undici); only the loading is client-node's.
import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { z } from 'zod';
import { inCluster, inClusterCredentials, staticKubeconfigCredentials } from './kubeconfig-static.ts';

export interface Credentials {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** SNI / certificate name when it differs from the server's host (kubeconfig tls-server-name). */
  servername?: string;
  insecureSkipTLSVerify: boolean;
  /** Authentication headers, re-read when they can change (rotating token files, plugins). */
  headers(): Promise<Record<string, string>>;
}

/**
 * Loads, in kubectl's order: the explicit file, then $KUBECONFIG (a list, merged), then the
 * in-cluster service account, then ~/.kube/config.
 */
export async function loadCredentials(path: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Credentials> {
  const files = path ? [path] : (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (files.length === 0 && inCluster(env)) return inClusterCredentials(env);
  const single = files.length === 0 ? join(homedir(), '.kube', 'config') : files.length === 1 ? files[0] : undefined;
  const direct = single === undefined ? undefined : staticKubeconfigCredentials(single);
  if (direct !== undefined) return direct;
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (files.length > 0) {
    kc.loadFromFile(files[0] as string);
    for (const more of files.slice(1)) {
      const next = new KubeConfig();
      next.loadFromFile(more);
      kc.mergeConfig(next);
    }
  } else {
    kc.loadFromFile(join(homedir(), '.kube', 'config'));
  }
  return fromKubeConfig(kc, files[0]);
}

/** Credentials of a KubeConfig built in memory (tests that impersonate a ServiceAccount). */
export async function fromKubeConfig(kc: KubeConfig, file?: string): Promise<Credentials> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig${file ? ` ${file}` : ''} has no current cluster`);
  const user = kc.getCurrentUser();
  const tls = await requestOptions(kc);
  const tokenFile = file ? kubectlTokenFile(file, kc.getCurrentContext()) : undefined;
  return {
    server: cluster.server,
    ...optionalBuffer('ca', tls.ca),
    ...optionalBuffer('cert', tls.cert),
    ...optionalBuffer('key', tls.key),
    ...(tls.servername ? { servername: tls.servername } : {}),
    insecureSkipTLSVerify: cluster.skipTLSVerify === true,
    headers: async () => {
      // kubectl's `tokenFile` is a file kubelet or a sidecar rewrites; client-node only knows
      // `token-file`, read once, so this one field is read here, on every refresh.
      if (tokenFile) return { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` };
      // Exec plugins and auth providers run (and cache) here, as they would for kubectl.
      const opts = await requestOptions(kc);
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') out[k.toLowerCase()] = v.trim();
      if (!out.authorization && user?.username) out.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
      return out;
    },
  };
}

type TLSOptions = { ca?: unknown; cert?: unknown; key?: unknown; servername?: string; headers?: Record<string, unknown> };

async function requestOptions(kc: KubeConfig): Promise<TLSOptions> {
  const opts: RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  return opts as TLSOptions;
}

function optionalBuffer<K extends string>(name: K, v: unknown): Partial<Record<K, Buffer>> {
  if (typeof v === 'string' || Buffer.isBuffer(v)) return { [name]: Buffer.from(v) } as Partial<Record<K, Buffer>>;
  return {};
}

const kubectlFields = z.object({
  contexts: z.array(z.object({ name: z.string(), context: z.looseObject({ user: z.string().optional() }) })).default([]),
  users: z.array(z.object({ name: z.string(), user: z.looseObject({ tokenFile: z.string().optional() }).nullish() })).default([]),
});

function kubectlTokenFile(file: string, context: string): string | undefined {
  const doc = kubectlFields.safeParse(parse(readFileSync(file, 'utf8')));
  if (!doc.success) return undefined;
  const userName = doc.data.contexts.find((c) => c.name === context)?.context.user;
  const tokenFile = doc.data.users.find((u) => u.name === userName)?.user?.tokenFile;
  if (!tokenFile) return undefined;
  return isAbsolute(tokenFile) ? tokenFile : join(dirname(file), tokenFile);
}
