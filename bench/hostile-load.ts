// The hostile flood of bench:hostile, run in a worker thread of its own so that sending it does
// not delay the bench's probes (which share nothing with it but the machine): the probes' latency
// is then the server's, not the load generator's event loop.
import { randomBytes } from 'node:crypto';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { HostileInput } from './hostile-corpus.ts';

export interface HostileLoad {
  base: string;
  acsURL: string;
  corpus: HostileInput[];
  seconds: number;
  acsLoops: number;
  authorizeLoops: number;
  /** SCIM PATCH and filter alternate in these loops; none without a user to patch. */
  scim?: { userPath: string; filterURL: string; token: string; patchBody: string; patchValues: number; loops: number };
  redirectURI: string;
  /** X-Forwarded-For per request (behind a trusted proxy): the attacker's few addresses. */
  forwardedFor: boolean;
}

/** Runs the flood for `seconds` in a worker thread; answers counted by "what → status". */
export async function runHostileLoad(load: HostileLoad): Promise<Map<string, number>> {
  const worker = new Worker(new URL(import.meta.url), { workerData: load });
  return new Promise((resolve, reject) => {
    worker.once('message', (counts: Array<[string, number]>) => resolve(new Map(counts)));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the load worker exited with ${code} before reporting`)));
  });
}

/** Repeats `task` in `concurrency` loops until `until`; counts answers by status. */
export async function loops(concurrency: number, until: () => boolean, task: (i: number) => Promise<number | string>, counts: Map<string, number>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (!until()) {
      let key: string;
      try {
        key = String(await task(i++));
      } catch (err) {
        key = `error ${(err as Error).message}`;
      }
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }));
}

async function flood(load: HostileLoad): Promise<Map<string, number>> {
  const end = performance.now() + load.seconds * 1000;
  const until = () => performance.now() >= end;
  const from = (address: string): Record<string, string> => (load.forwardedFor ? { 'x-forwarded-for': address } : {});
  const counts = new Map<string, number>();
  const { scim } = load;
  await Promise.all([
    loops(load.acsLoops, until, async (i) => {
      const input = load.corpus[i % load.corpus.length] as HostileInput;
      const res = await fetch(load.acsURL, { method: 'POST', redirect: 'manual', headers: { ...from(`203.0.113.${1 + (i % 4)}`), 'content-type': 'application/x-www-form-urlencoded' }, body: input.body });
      await res.arrayBuffer();
      return `${input.name} → ${res.status}`;
    }, counts),
    loops(load.authorizeLoops, until, async (i) => {
      const q = new URLSearchParams({ client_id: 'console', redirect_uri: load.redirectURI, response_type: 'code', code_challenge_method: 'S256', code_challenge: randomBytes(32).toString('base64url'), state: 'x'.repeat(2048), login_hint: `flood${i}@acme.test` });
      const res = await fetch(`${load.base}/authorize?${q}`, { redirect: 'manual', headers: from(`203.0.113.${11 + (i % 2)}`) });
      await res.arrayBuffer();
      return `/authorize → ${res.status}`;
    }, counts),
    scim === undefined ? Promise.resolve() : loops(scim.loops, until, async (i) => {
      const auth = { authorization: `Bearer ${scim.token}`, 'content-type': 'application/scim+json' };
      const res = i % 2 === 0 ? await fetch(scim.userPath, { method: 'PATCH', headers: auth, body: scim.patchBody }) : await fetch(scim.filterURL, { headers: auth });
      await res.arrayBuffer();
      return `SCIM ${i % 2 === 0 ? `PATCH ${scim.patchValues} values` : 'filter of 4 KB'} → ${res.status}`;
    }, counts),
  ]);
  return counts;
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  void flood(workerData as HostileLoad).then((counts) => port.postMessage([...counts]));
}
