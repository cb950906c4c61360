// One of bench:acs-workers' free-running validation loops: a worker thread that validates a
// slice of the responses it was given at start, with no message per validation. N of them on N
// cores measure what the machine gives this workload on N cores at all (shared caches, memory
// bandwidth, clock): the ceiling for any pool, whose hand-off comes on top.
import { parentPort, workerData } from 'node:worker_threads';
import type { RenderedSAMLProfile } from '../crds/api/index.ts';
import { memoryReplayCache, validateSamlResponse } from '../sp-server/saml/validate.ts';

export interface LoopResponse {
  base64: string;
  inResponseTo: string | null;
}

export interface LoopWorkerData {
  profile: RenderedSAMLProfile;
  sets: Record<string, LoopResponse[]>;
}

/** Validate sets[set] from `from` to `to`; the worker answers with the number validated. */
export interface LoopOrder {
  set: string;
  from: number;
  to: number;
}

const { profile, sets } = workerData as LoopWorkerData;
const port = parentPort;
if (port === null) throw new Error('acs-loop-worker.ts runs as a worker thread');
port.on('message', async ({ set, from, to }: LoopOrder) => {
  const responses = (sets[set] ?? []).slice(from, to);
  const replay = memoryReplayCache();
  // Every response must validate, as in the pool's rounds: a refusal ends the run.
  for (const r of responses) await validateSamlResponse(r.base64, { profile, expectedInResponseTo: r.inResponseTo, replay });
  port.postMessage(responses.length);
});
