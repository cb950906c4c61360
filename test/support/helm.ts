// Helm and chart helpers for the chart tests: the helm binary built by
// hack/build-controlplane.sh, rendering the chart into objects, and kubeconfig files that
// impersonate the chart's ServiceAccounts for local processes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { run, type RunResult } from '../controlplane/run.ts';

export const CHART_DIR = join(import.meta.dirname, '..', '..', 'charts', 'gatehouse');

export type { RunResult };

export function helmBin(): string {
  const dir = process.env.HELM_BIN;
  if (!dir) throw new Error('HELM_BIN is not set: run through `make test` or hack/env.sh, which build helm first');
  const bin = join(dir, 'helm');
  if (!existsSync(bin)) throw new Error(`helm missing in ${dir}: run hack/build-controlplane.sh`);
  return bin;
}

export async function helm(args: string[], opts: { kubeconfig?: string; stdin?: string } = {}): Promise<RunResult> {
  const env = { ...process.env, HELM_CACHE_HOME: '/tmp/gatehouse-helm/cache', HELM_CONFIG_HOME: '/tmp/gatehouse-helm/config', HELM_DATA_HOME: '/tmp/gatehouse-helm/data' };
  const full = opts.kubeconfig ? [`--kubeconfig=${opts.kubeconfig}`, ...args] : args;
  return run(helmBin(), full, { env, ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }) });
}

/** A rendered Kubernetes object, loosely typed: tests look into it by path. */
export interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export function parseManifests(text: string): Rendered[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((o): o is Rendered => typeof o === 'object' && o !== null && 'kind' in o);
}

/** `helm template` with --set-json style values; throws with helm's message when it refuses. */
export async function render(values: Record<string, unknown> = {}, opts: { release?: string; namespace?: string; extra?: string[] } = {}): Promise<Rendered[]> {
  const res = await renderRaw(values, opts);
  if (res.code !== 0) throw new Error(res.stderr);
  return parseManifests(res.stdout);
}

export async function renderRaw(values: Record<string, unknown> = {}, opts: { release?: string; namespace?: string; extra?: string[] } = {}): Promise<RunResult> {
  return helm([
    'template', opts.release ?? 'gatehouse', CHART_DIR,
    '--namespace', opts.namespace ?? 'gatehouse-system',
    '--values', '-',
    ...(opts.extra ?? []),
  ], { stdin: JSON.stringify(values) });
}

export function find(objs: Rendered[], kind: string, name?: string): Rendered {
  const hit = objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!hit) throw new Error(`no ${kind} ${name ?? ''} in: ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hit;
}

/**
 * Writes a kubeconfig that authenticates as the admin and impersonates a ServiceAccount
 * (`as:` in the user entry, which kubectl and the kube/ loader both honour), so that a local
 * operator or sp-server process started with KUBECONFIG=<file> runs with exactly the chart's
 * RBAC for that ServiceAccount. Returns the file's path.
 */
export function writeImpersonatingKubeconfig(adminKubeconfig: string, namespace: string, serviceAccount: string, dir: string): string {
  const doc = parse(readFileSync(adminKubeconfig, 'utf8')) as { users: { name: string; user: Record<string, unknown> }[] };
  for (const u of doc.users) u.user.as = `system:serviceaccount:${namespace}:${serviceAccount}`;
  const path = join(dir, `kubeconfig-${namespace}-${serviceAccount}`);
  writeFileSync(path, stringify(doc), { mode: 0o600 });
  return path;
}
