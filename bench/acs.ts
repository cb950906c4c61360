// ACS benchmark: validated SAML logins per second on one core, Gatehouse's validator side by side
// with samlify's bare `parseLoginResponse` and @node-saml/node-saml's `validatePostResponseAsync`
// on the same pre-signed responses (each with a fresh assertion ID and a matching pending
// request), at 5 and 150 attribute values; then where one Gatehouse validation spends its time.
//
//   npm run bench:acs                 (BENCH_N=responses per size, default 300)
//   taskset -c 0 npm run bench:acs    (pin to one core on a busy machine)
//
// The responses carry a response signature and an assertion signature (Okta's "sign both"), so
// every library verifies what it is configured to require and Gatehouse verifies both.
import * as validator from '@authenio/samlify-node-xmllint';
import { SAML, ValidateInResponseTo, type CacheProvider } from '@node-saml/node-saml';
import * as samlify from 'samlify';
import { buildResponse, testIdpKeys, testProfile, type BuiltResponse } from '../test/support/saml-fixtures.ts';
import { memoryReplayCache, peekInResponseTo, validateSamlResponse, validateWithTimings, type ValidationTimings } from '../sp-server/saml/validate.ts';

const N = Number(process.env.BENCH_N ?? 300);
const WARMUP = 30;
const SIZES = [5, 150];
const profile = testProfile();

async function responses(count: number, attributes: number): Promise<BuiltResponse[]> {
  const out: BuiltResponse[] = [];
  for (let i = 0; i < count; i++) out.push(await buildResponse({ attributes, signResponse: true, signAssertion: true, notOnOrAfterSeconds: 900, subjectNotOnOrAfterSeconds: 900 }));
  return out;
}

// --- Gatehouse: the ACS path minus HTTP — find the pending request, validate, consume it.
function gatehouse() {
  const pending = new Map<string, { profile: string }>();
  const replay = memoryReplayCache();
  return {
    name: 'gatehouse validateSamlResponse',
    expect(r: BuiltResponse) {
      pending.set(r.inResponseTo as string, { profile: profile.name });
    },
    async validate(r: BuiltResponse) {
      const id = peekInResponseTo(r.base64);
      const request = id === null ? undefined : pending.get(id);
      if (id !== null) pending.delete(id);
      await validateSamlResponse(r.base64, { profile, expectedInResponseTo: request === undefined ? null : id, replay });
    },
  };
}

// --- samlify 2.13, schema validation on (it refuses responses without a validator).
function samlifyBare() {
  samlify.setSchemaValidator(validator);
  const sp = samlify.ServiceProvider({
    entityID: profile.sp.entityID,
    assertionConsumerService: [{ Binding: samlify.Constants.namespace.binding.post, Location: profile.sp.acsURL }],
    wantAssertionsSigned: true,
    clockDrifts: [-profile.allowedClockSkewSeconds * 1000, profile.allowedClockSkewSeconds * 1000],
  });
  const idp = samlify.IdentityProvider({
    entityID: profile.idp.entityID,
    signingCert: testIdpKeys().certificatePem,
    singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: profile.idp.ssoURL }],
    singleLogoutService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: profile.idp.ssoURL }],
  });
  return {
    name: 'samlify parseLoginResponse',
    expect() {},
    async validate(r: BuiltResponse) {
      await sp.parseLoginResponse(idp, 'post', { body: { SAMLResponse: r.base64 } });
    },
  };
}

// --- @node-saml/node-saml 5, InResponseTo validated against a cache of pending requests.
function nodeSaml() {
  const cache = new Map<string, string>();
  const cacheProvider: CacheProvider = {
    async saveAsync(key, value) {
      cache.set(key, value);
      return { value, createdAt: Date.now() };
    },
    async getAsync(key) {
      return cache.get(key) ?? null;
    },
    async removeAsync(key) {
      if (key === null) return null;
      const v = cache.get(key) ?? null;
      cache.delete(key);
      return v;
    },
  };
  const saml = new SAML({
    callbackUrl: profile.sp.acsURL,
    entryPoint: profile.idp.ssoURL,
    issuer: profile.sp.entityID,
    audience: profile.sp.entityID,
    idpCert: testIdpKeys().certificatePem,
    idpIssuer: profile.idp.entityID,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: true,
    validateInResponseTo: ValidateInResponseTo.always,
    cacheProvider,
    acceptedClockSkewMs: profile.allowedClockSkewSeconds * 1000,
  });
  return {
    name: 'node-saml validatePostResponseAsync',
    expect(r: BuiltResponse) {
      cache.set(r.inResponseTo as string, new Date().toISOString());
    },
    async validate(r: BuiltResponse) {
      const { profile: p } = await saml.validatePostResponseAsync({ SAMLResponse: r.base64 });
      if (p === null) throw new Error('node-saml returned no profile');
    },
  };
}

type Contender = ReturnType<typeof gatehouse>;

interface Rate {
  /** Logins per second of process CPU time (user + system): robust against other load on the machine. */
  perCpuSecond: number;
  /** Logins per second of wall-clock time. */
  perSecond: number;
}

async function run(contender: Contender, warm: BuiltResponse[], set: BuiltResponse[]): Promise<Rate> {
  for (const r of [...warm, ...set]) contender.expect(r);
  for (const r of warm) await contender.validate(r);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const r of set) await contender.validate(r);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { perCpuSecond: (set.length * 1000) / cpuMs, perSecond: (set.length * 1000) / ms };
}

/** Per-phase medians over one validation each of `set`: medians shrug off preemption by other load. */
async function breakdown(set: BuiltResponse[]): Promise<ValidationTimings & { storeMs: number; totalMs: number }> {
  const pending = new Map<string, true>();
  for (const r of set) pending.set(r.inResponseTo as string, true);
  const replay = memoryReplayCache();
  const samples: (ValidationTimings & { storeMs: number; totalMs: number })[] = [];
  for (const r of set) {
    const t: ValidationTimings = { parseMs: 0, signatureMs: 0, checksMs: 0, replayMs: 0 };
    const s0 = performance.now();
    const id = peekInResponseTo(r.base64);
    const found = id !== null && pending.delete(id);
    const storeMs = performance.now() - s0;
    await validateWithTimings(r.base64, { profile, expectedInResponseTo: found ? id : null, replay }, t);
    samples.push({ ...t, storeMs, totalMs: performance.now() - s0 });
  }
  const m = (k: keyof (typeof samples)[number]): number => median(samples.map((x) => x[k]));
  return { parseMs: m('parseMs'), signatureMs: m('signatureMs'), checksMs: m('checksMs'), replayMs: m('replayMs'), storeMs: m('storeMs'), totalMs: m('totalMs') };
}

const fmt = (n: number, digits = 0): string => n.toFixed(digits).padStart(8);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

// samlify's xmllint (emscripten) prints blank lines to stdout on every validation; keep the
// report readable by dropping whitespace-only writes.
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => (String(chunk).trim() === '' ? true : write(chunk, ...rest))) as typeof process.stdout.write;

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
console.log(`ACS validation benchmark — node ${process.version}, ${N} responses per size and round, median of ${ROUNDS} rounds by CPU time (+${WARMUP} warm-up responses), response and assertion signed (rsa-sha256, RSA-2048)\n`);
const contenders = [gatehouse, samlifyBare, nodeSaml];
for (const attributes of SIZES) {
  const warm = await responses(WARMUP, attributes);
  const rates = new Map<string, Rate[]>();
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const set = await responses(N, attributes);
    bytes = Math.round(set.reduce((s, r) => s + r.xml.length, 0) / set.length);
    for (const make of contenders) {
      // A fresh contender per round: its own pending requests and replay state.
      const c = make();
      const r = await run(c, round === 0 ? warm : [], set);
      rates.set(c.name, [...(rates.get(c.name) ?? []), r]);
    }
  }
  console.log(`${attributes} attribute values (${bytes} bytes of XML per response)`);
  console.log(`  ${''.padEnd(38)} logins/s of CPU (µs/login)   logins/s wall-clock, per round`);
  for (const [name, xs] of rates) {
    const m = median(xs.map((x) => x.perCpuSecond));
    console.log(`  ${name.padEnd(38)} ${fmt(m)} (${fmt(1e6 / m)})        ${xs.map((x) => x.perSecond.toFixed(0)).join(', ')}`);
  }
  const b = await breakdown(await responses(N, attributes));
  const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;
  console.log(`  gatehouse, one validation (medians): XML parse + ID index ${us(b.parseMs)}, signatures (c14n + digest + RSA verify, x2) ${us(b.signatureMs)}, checks ${us(b.checksMs)}, pending-request store ${us(b.storeMs)}, replay store ${us(b.replayMs)}; total ${us(b.totalMs)}`);
  const cpuRate = (name: string): number => median((rates.get(name) ?? []).map((x) => x.perCpuSecond));
  const g = cpuRate('gatehouse validateSamlResponse');
  const best = Math.max(cpuRate('samlify parseLoginResponse'), cpuRate('node-saml validatePostResponseAsync'));
  console.log(`  goal (>= the faster library, all Gatehouse checks on): ${g >= best ? 'met' : 'NOT met'}, ${(g / best).toFixed(1)}x the faster library\n`);
}
