// The full login path (/authorize → ACS → /token) against an sp-server process on loopback: p50/p99
// latency at several concurrency levels, and the server's CPU per login — from /proc/<pid>/stat of
// the server process (utime+stime of all its threads, what process.cpuUsage reports inside it),
// read before and after each level. The client runs in this process, so its work (building and
// signing each SAML response after /authorize, which needs the request ID) is never in the
// server's CPU; it is not in the latencies either, which are the sum of the three round trips.
// A breakdown at concurrency 1 gives the CPU of each step. Goals (2 cores): ≤ 1.5 ms of server
// CPU per login at 5 attributes, p99 < 20 ms at concurrency 8.
//   npm run bench:login [-- --logins 400 --concurrency 1,8,32 --redis]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { freePort } from '../test/controlplane/controlplane.ts';
import { CookieJar, readAuthnRequest } from '../test/support/login-driver.ts';
import { RedisServer } from '../test/support/redis-server.ts';
import { buildResponse, testProfile } from '../test/support/saml-fixtures.ts';
import { SpServerProcess, testSigningKeyPems } from '../test/support/sp-server-process.ts';
import { cpuSeconds } from './proc-stats.ts';

const { values } = parseArgs({
  options: {
    logins: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '1,8,32' },
    redis: { type: 'boolean', default: false },
    warmup: { type: 'string', default: '300' },
  },
});

const REDIRECT = 'http://127.0.0.1:1/callback';
const b64url = (b: Buffer) => b.toString('base64url');

interface Sample {
  authorize: number;
  acs: number;
  token: number;
}

interface Started {
  jar: CookieJar;
  verifier: string;
  id: string;
  ms: number;
}

async function authorize(base: string, n: number): Promise<Started> {
  const jar = new CookieJar();
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const q = new URLSearchParams({ client_id: 'console', redirect_uri: REDIRECT, response_type: 'code', scope: 'openid', state: `s${n}`, nonce: `n${n}`, code_challenge: challenge, code_challenge_method: 'S256', login_hint: `user${n % 100}@acme.test` });
  const t = performance.now();
  const a = await fetch(`${base}/authorize?${q}`, { redirect: 'manual' });
  jar.store(a);
  await a.arrayBuffer();
  const ms = performance.now() - t;
  if (a.status !== 302) throw new Error(`authorize ${a.status}`);
  return { jar, verifier, id: readAuthnRequest(a.headers.get('location') as string).id, ms };
}

/** Signs the response (client work, not timed) and posts it; resolves with the code and the ACS round trip. */
async function acs(base: string, n: number, s: Started): Promise<{ code: string; ms: number }> {
  const acsURL = `${base}/saml/acme/okta/acs`;
  const saml = await buildResponse({ inResponseTo: s.id, destination: acsURL, recipient: acsURL, audience: `${base}/saml/acme/okta`, nameID: `user${n % 100}@acme.test` });
  const t = performance.now();
  const r = await fetch(acsURL, { method: 'POST', redirect: 'manual', headers: { cookie: s.jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ SAMLResponse: saml.base64 }).toString() });
  await r.arrayBuffer();
  const ms = performance.now() - t;
  if (r.status !== 303) throw new Error(`acs ${r.status}`);
  return { code: new URL(r.headers.get('location') as string).searchParams.get('code') as string, ms };
}

async function token(base: string, code: string, verifier: string): Promise<number> {
  const t = performance.now();
  const tok = await fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'console', code_verifier: verifier }).toString() });
  const body = (await tok.json()) as { id_token?: string };
  const ms = performance.now() - t;
  if (tok.status !== 200 || !body.id_token) throw new Error(`token ${tok.status}`);
  return ms;
}

async function oneLogin(base: string, n: number): Promise<Sample> {
  const s = await authorize(base, n);
  const a = await acs(base, n, s);
  return { authorize: s.ms, acs: a.ms, token: await token(base, a.code, s.verifier) };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** Runs `fn` for 0..total-1 with `concurrency` in flight; resolves with the results and the seconds taken. */
async function run<T>(total: number, concurrency: number, fn: (n: number) => Promise<T>): Promise<{ results: T[]; seconds: number }> {
  const results: T[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) results.push(await fn(next++));
    }),
  );
  return { results, seconds: (performance.now() - t0) / 1000 };
}

/** Server CPU milliseconds spent while `work` runs, less what the server spends idle in that time, per `count`. */
async function serverCpuMs<T>(pid: number, count: number, work: () => Promise<T>, idleMsPerSecond = 0): Promise<{ result: T; msEach: number }> {
  const before = cpuSeconds(pid);
  const t0 = performance.now();
  const result = await work();
  const idle = (idleMsPerSecond * (performance.now() - t0)) / 1000;
  return { result, msEach: Math.max(0, (cpuSeconds(pid) - before) * 1000 - idle) / count };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const profile = testProfile({ sp: { ...testProfile().sp, entityID: `${base}/saml/acme/okta`, acsURL: `${base}/saml/acme/okta/acs`, metadataURL: `${base}/saml/acme/okta/metadata` } });
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ formatVersion: 1, organizations: [{ namespace: 'acme', verifiedDomains: ['acme.test'], profiles: [profile] }] }));
  const users = Array.from({ length: 100 }, (_, i) => ({ metadata: { name: `user${i}`, namespace: 'acme', uid: `uid-${i}` }, spec: { email: `user${i}@acme.test`, roles: ['member'] } }));
  const redis = values.redis ? await RedisServer.start() : undefined;
  const sp = await SpServerProcess.start({
    configFile,
    users,
    port,
    logLevel: 'warn',
    signingKeys: testSigningKeyPems(),
    clients: [{ client_id: 'console', redirect_uris: [REDIRECT] }],
    ...(redis ? { redisURL: redis.url } : {}),
    ...(process.env.SP_NODE_OPTIONS ? { env: { NODE_OPTIONS: process.env.SP_NODE_OPTIONS } } : {}),
  });
  const pid = sp.pid as number;
  const logins = Number(values.logins);
  try {
    const warmup = Number(values.warmup);
    await run(warmup, 4, (n) => oneLogin(base, n));
    // The server's own background work (timers, the event-loop monitor), over 5 s: subtracted below.
    const idle = await serverCpuMs(pid, 5, () => new Promise((r) => setTimeout(r, 5000)));
    console.log(`login path /authorize → ACS → /token, state: ${redis ? 'Redis' : 'memory'}, Node ${process.version}, sp-server and client share this machine`);
    console.log(`warm-up: ${warmup} full logins at concurrency 4; ${logins} logins per level; the server idles at ${idle.msEach.toFixed(1)} ms CPU/s, subtracted from the figures below (/proc counts 10 ms ticks)`);
    console.log('concurrency  logins  logins/s   p50 ms   p99 ms  server CPU ms/login   (authorize p50/p99 | acs p50/p99 | token p50/p99)');
    for (const c of values.concurrency.split(',').map(Number)) {
      const { result, msEach } = await serverCpuMs(pid, logins, () => run(logins, c, (n) => oneLogin(base, n)), idle.msEach);
      const { results: samples, seconds } = result;
      const total = samples.map((s) => s.authorize + s.acs + s.token);
      const f = (xs: number[]) => `${pct(xs, 50).toFixed(2)}/${pct(xs, 99).toFixed(2)}`;
      console.log(
        `${String(c).padStart(11)}  ${String(samples.length).padStart(6)}  ${(samples.length / seconds).toFixed(1).padStart(8)}  ${pct(total, 50).toFixed(2).padStart(7)}  ${pct(total, 99).toFixed(2).padStart(7)}  ${msEach.toFixed(2).padStart(19)}   (${f(samples.map((s) => s.authorize))} | ${f(samples.map((s) => s.acs))} | ${f(samples.map((s) => s.token))})`,
      );
    }
    // Each step alone, at concurrency 1: the client's signing between /authorize and ACS happens
    // while the server is idle, so the ACS figure is the authorize+ACS phase minus authorize.
    const onlyAuthorize = await serverCpuMs(pid, logins, () => run(logins, 1, (n) => authorize(base, n)), idle.msEach);
    const upToAcs = await serverCpuMs(pid, logins, () => run(logins, 1, async (n) => {
      const s = await authorize(base, n);
      return { code: (await acs(base, n, s)).code, verifier: s.verifier };
    }), idle.msEach);
    const onlyToken = await serverCpuMs(pid, logins, () => run(logins, 1, (n) => token(base, upToAcs.result.results[n]?.code as string, upToAcs.result.results[n]?.verifier as string)), idle.msEach);
    const perStep = { authorize: onlyAuthorize.msEach, acs: upToAcs.msEach - onlyAuthorize.msEach, token: onlyToken.msEach };
    console.log(`server CPU per step (ms, concurrency 1, ${logins} each): authorize ${perStep.authorize.toFixed(2)}, ACS ${perStep.acs.toFixed(2)}, token ${perStep.token.toFixed(2)}; sum ${(perStep.authorize + perStep.acs + perStep.token).toFixed(2)} (goal ≤ 1.5)`);
  } finally {
    await sp.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
