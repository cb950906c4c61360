// Focused ACS benchmark for tuning the validator: Gatehouse only, a long warm-up so the JIT has
// settled, best of several rounds by process CPU time, at 5 and 150 attribute values (response and
// assertion signed), then the per-phase medians; the floor, one RSA-2048 verify (a validation does
// two), is measured in the same run. Pair with `node --cpu-prof` for a profile.
//
//   hack/env.sh npm run bench:acs-profile    (BENCH_N responses per round, default 400; BENCH_ROUNDS, default 3; BENCH_WARMUP, default 600)
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { buildResponse, testIdpKeys, testProfile, type BuiltResponse } from '../test/support/saml-fixtures.ts';
import { memoryReplayCache, peekInResponseTo, validateSamlResponse, validateWithTimings, type ValidationTimings } from '../sp-server/saml/validate.ts';
import { median } from './results.ts';

const N = Number(process.env.BENCH_N ?? 400);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 600);
const SIZES = (process.env.BENCH_SIZES ?? '5,150').split(',').map(Number);
const profile = testProfile();

async function responses(count: number, attributes: number): Promise<BuiltResponse[]> {
  const out: BuiltResponse[] = [];
  for (let i = 0; i < count; i++) out.push(await buildResponse({ attributes, signResponse: true, signAssertion: true, notOnOrAfterSeconds: 900, subjectNotOnOrAfterSeconds: 900 }));
  return out;
}

/** The ACS path minus HTTP: find the pending request, validate, consume it. Returns validations per CPU second. */
async function round(set: BuiltResponse[]): Promise<number> {
  const pending = new Set(set.map((r) => r.inResponseTo as string));
  const replay = memoryReplayCache();
  const c0 = process.cpuUsage();
  for (const r of set) {
    const id = peekInResponseTo(r.base64);
    const found = id !== null && pending.delete(id);
    await validateSamlResponse(r.base64, { profile, expectedInResponseTo: found ? id : null, replay });
  }
  const cpu = process.cpuUsage(c0);
  return (set.length * 1e6) / (cpu.user + cpu.system);
}

/** RSA-2048 (rsa-sha256) verifies per CPU second over a SignedInfo-sized message, best of ROUNDS. */
function rsaVerifyFloor(): number {
  const keys = testIdpKeys();
  const message = Buffer.alloc(600, 'x');
  const signature = sign('sha256', message, createPrivateKey(keys.privateKeyPem));
  const key = createPublicKey(keys.certificatePem);
  let best = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) verify('sha256', message, key, signature);
    const cpu = process.cpuUsage(c0);
    if (round > 0) best = Math.max(best, (N * 1e6) / (cpu.user + cpu.system));
  }
  return best;
}


const floor = rsaVerifyFloor();
console.log(`ACS validation, Gatehouse only — node ${process.version}; ${WARMUP} warm-up validations, then best of ${ROUNDS} rounds of ${N} by process CPU time; response + assertion signed (rsa-sha256, RSA-2048)`);
for (const attributes of SIZES) {
  const warm = await responses(WARMUP, attributes);
  await round(warm);
  const rates: number[] = [];
  for (let i = 0; i < ROUNDS; i++) rates.push(await round(await responses(N, attributes)));
  const best = Math.max(...rates);
  const set = await responses(N, attributes);
  const samples: ValidationTimings[] = [];
  const replay = memoryReplayCache();
  for (const r of set) {
    const t: ValidationTimings = { parseMs: 0, signatureMs: 0, checksMs: 0, replayMs: 0 };
    await validateWithTimings(r.base64, { profile, expectedInResponseTo: r.inResponseTo, replay }, t);
    samples.push(t);
  }
  const us = (k: keyof ValidationTimings): string => `${(median(samples.map((s) => s[k])) * 1000).toFixed(0)} µs`;
  console.log(`${String(attributes).padStart(4)} values (${set[0]?.xml.length ?? 0} bytes): best ${best.toFixed(0)}/s of CPU (${(1e6 / best).toFixed(0)} µs, ${(floor / 2 / best).toFixed(1)}x the floor of two verifies), rounds ${rates.map((r) => r.toFixed(0)).join(', ')}; medians: parse + index ${us('parseMs')}, signatures ${us('signatureMs')}, checks ${us('checksMs')}, replay ${us('replayMs')}`);
}
console.log(`floor: RSA-2048 verify alone ${floor.toFixed(0)}/s of CPU (best of ${ROUNDS} rounds of ${N} after one warm-up round)`);
