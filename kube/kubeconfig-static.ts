// The credentials of the two configurations every deployment of Gatehouse uses, read without
// @kubernetes/client-node: the in-cluster service account, and a kubeconfig whose user is only a
// token, a token file or a client certificate. Loading client-node brings its whole generated
// API (about 30 MiB of resident memory the operator would carry for good, an eighth of its
// 250 MiB budget with 100,000 users cached; operator/README.md), so kube/kubeconfig.ts loads it
// only for everything else: exec plugins, auth providers, impersonation, merged KUBECONFIG
// lists, or any field not read here.
// What is read here is read as client-node reads it (kubeconfig-static.test.ts compares the two).
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Credentials } from './kubeconfig.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The in-cluster service account: its CA, and its token re-read on every refresh (kubelet rotates it). */
export function inClusterCredentials(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): Credentials {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '';
  // client-node takes these ports for a plain-HTTP proxy, then refuses to send a token over it.
  if (port === '80' || port === '8080' || port === '8001') throw new Error(`the in-cluster API server is on port ${port}, which client-go takes for plain HTTP: the service account token is sent over TLS only`);
  const tokenFile = join(dir, 'token');
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(dir, 'ca.crt')),
    insecureSkipTLSVerify: false,
    headers: async () => bearerFromFile(tokenFile),
  };
}

const cluster = z.looseObject({
  server: z.string().min(1),
  'certificate-authority': z.string().optional(),
  'certificate-authority-data': z.string().optional(),
  'insecure-skip-tls-verify': z.boolean().optional(),
  'tls-server-name': z.string().optional(),
});

// Strict: a user with anything else (exec, auth-provider, as, token-file…) goes to client-node.
const user = z.strictObject({
  token: z.string().optional(),
  tokenFile: z.string().optional(),
  'client-certificate': z.string().optional(),
  'client-certificate-data': z.string().optional(),
  'client-key': z.string().optional(),
  'client-key-data': z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
});

const kubeconfig = z.looseObject({
  'current-context': z.string().min(1),
  clusters: z.array(z.looseObject({ name: z.string(), cluster })),
  users: z.array(z.looseObject({ name: z.string(), user })),
  contexts: z.array(z.looseObject({ name: z.string(), context: z.looseObject({ cluster: z.string(), user: z.string() }) })),
});

/**
 * The credentials of a kubeconfig file whose current context is a cluster and a static user, or
 * undefined when it needs client-node (or is malformed: client-node then says how).
 */
export function staticKubeconfigCredentials(file: string): Credentials | undefined {
  let doc: z.infer<typeof kubeconfig>;
  try {
    const parsed = kubeconfig.safeParse(parse(readFileSync(file, 'utf8')));
    if (!parsed.success) return undefined;
    doc = parsed.data;
  } catch {
    return undefined;
  }
  // client-node takes the first entry of a name, as kubectl does.
  const context = doc.contexts.find((c) => c.name === doc['current-context'])?.context;
  const c = doc.clusters.find((x) => x.name === context?.cluster)?.cluster;
  const u = doc.users.find((x) => x.name === context?.user)?.user;
  if (c === undefined || u === undefined) return undefined;
  // Plain HTTP only when asked for in so many words (client-node refuses it otherwise, or proxies it).
  const insecureSkipTLSVerify = c['insecure-skip-tls-verify'] === true;
  if (c.server.startsWith('http:') && !insecureSkipTLSVerify) return undefined;
  // Relative paths are relative to the kubeconfig's directory.
  const path = (p: string) => (isAbsolute(p) ? p : join(dirname(file), p));
  // A file wins over inline data, as in client-node.
  const material = (p: string | undefined, data: string | undefined): Buffer | undefined =>
    p ? readFileSync(path(p)) : data ? Buffer.from(data, 'base64') : undefined;
  const ca = material(c['certificate-authority'], c['certificate-authority-data']);
  const cert = material(u['client-certificate'], u['client-certificate-data']);
  const key = material(u['client-key'], u['client-key-data']);
  const tokenFile = u.tokenFile === undefined ? undefined : path(u.tokenFile);
  const basic = u.username ? `Basic ${Buffer.from(`${u.username}:${u.password ?? ''}`).toString('base64')}` : undefined;
  return {
    server: c.server.replace(/\/$/, ''),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(c['tls-server-name'] ? { servername: c['tls-server-name'] } : {}),
    insecureSkipTLSVerify,
    headers: async () => {
      // kubectl's tokenFile is rewritten by kubelet or a sidecar: read on every refresh.
      if (tokenFile !== undefined) return bearerFromFile(tokenFile);
      if (u.token) return { authorization: `Bearer ${u.token}`.trim() };
      return basic ? { authorization: basic } : {};
    },
  };
}

function bearerFromFile(file: string): Record<string, string> {
  return { authorization: `Bearer ${readFileSync(file, 'utf8').trim()}` };
}

/** Whether the in-cluster service account is there to load. */
export const inCluster = (env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): boolean => Boolean(env.KUBERNETES_SERVICE_HOST) && existsSync(join(dir, 'token'));
