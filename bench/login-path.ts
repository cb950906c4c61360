// The full login path (/authorize → ACS → /token) against an sp-server process on loopback: p50/p99
// latency at several concurrency levels, and the server's CPU per login — from /proc/<pid>/stat of
// the server process (utime+stime of all its threads, what process.cpuUsage reports inside it),
// read before and after each level, split by thread (event loop, validation workers, V8's GC and
// compiler threads, libuv's pool), with the server's event-loop delay over the level (its own
// monitorEventLoopDelay histogram, read from /metrics before and after). The client runs in this
// process; it signs each SAML response (response and assertion, 5 attribute values) from a
// template on a worker thread (login-sign-worker.ts: ≈ 2.5 ms of CPU where the fixture's
// buildResponse takes 12–15 ms, which on 2 shared cores starved the server), so that work is in
// neither the latencies (the sum of the three round trips) nor the server's CPU, and never holds
// the event loop that times the other logins. A
// breakdown at concurrency 1 gives the CPU of each step. The floors, measured in the same run: the
// cryptography a login cannot avoid, and the same three round trips against a bare node:http
// server. Goals (2 cores): ≤ 1.5 ms of server CPU per login at 5 attributes, p99 < 20 ms at concurrency 8.
//   npm run bench:login [-- --logins 400 --concurrency 1,8,32 --warmup 1500 --id-token-alg RS256|ES256 --redis]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { ThreadPool } from '../sp-server/saml/thread-pool.ts';
import { freePort } from '../test/controlplane/controlplane.ts';
import { CookieJar, readAuthnRequest } from '../test/support/login-driver.ts';
import { RedisServer } from '../test/support/redis-server.ts';
import { testIdpKeys, testProfile } from '../test/support/saml-fixtures.ts';
import { SpServerProcess, testSigningKeyPems } from '../test/support/sp-server-process.ts';
import { cryptoFloor, httpFloor, percentile as pct, type HttpFloorSizes } from './login-floor.ts';
import type { SignTask } from './login-sign-worker.ts';
import { fillCompileCacheLikeTheImage } from './compile-cache.ts';
import { cpuSeconds, cpuSecondsByRole, residentKb, type ThreadRole } from './proc-stats.ts';
import { fmt, startResults } from './results.ts';

const { values } = parseArgs({
  options: {
    logins: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '1,8,32' },
    redis: { type: 'boolean', default: false },
    // The validation workers' JIT settles after 500–900 validations each (bench:acs); the warm-up's
    // logins spread over both workers.
    warmup: { type: 'string', default: '1500' },
    'id-token-alg': { type: 'string', default: 'RS256' },
  },
});
const algFlag = values['id-token-alg'];
if (algFlag !== 'RS256' && algFlag !== 'ES256') throw new Error('--id-token-alg is RS256 or ES256');
const idTokenAlg: 'RS256' | 'ES256' = algFlag;

const REDIRECT = 'http://127.0.0.1:1/callback';
const ATTRIBUTES = 5;
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

/** What one login's requests and answers weigh, for the HTTP floor. */
const sizes: HttpFloorSizes = { locationBytes: 0, acsBody: '', tokenJsonBytes: 0 };

const signer = new ThreadPool<SignTask, string>({ module: new URL('./login-sign-worker.ts', import.meta.url).href, threads: 1, tasksPerThread: 64, maxQueue: Infinity, niceIncrement: 0 });
const idpKeys = testIdpKeys();

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
  const location = a.headers.get('location') as string;
  sizes.locationBytes = location.length;
  return { jar, verifier, id: readAuthnRequest(location).id, ms };
}

/** Signs the response on the signing thread (not timed) and posts it; resolves with the code and the ACS round trip. */
async function acs(base: string, n: number, s: Started): Promise<{ code: string; ms: number }> {
  const acsURL = `${base}/saml/acme/okta/acs`;
  const task: SignTask = {
    signer: idpKeys,
    response: { destination: acsURL, recipient: acsURL, audience: `${base}/saml/acme/okta`, attributes: ATTRIBUTES },
    values: { inResponseTo: s.id, nameID: `user${n % 100}@acme.test`, assertionID: `_a${randomBytes(16).toString('hex')}`, responseID: `_r${randomBytes(16).toString('hex')}` },
  };
  const saml = await signer.run(task, '');
  const body = new URLSearchParams({ SAMLResponse: saml }).toString();
  sizes.acsBody = body;
  const t = performance.now();
  const r = await fetch(acsURL, { method: 'POST', redirect: 'manual', headers: { cookie: s.jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body });
  await r.arrayBuffer();
  const ms = performance.now() - t;
  if (r.status !== 303) throw new Error(`acs ${r.status}`);
  return { code: new URL(r.headers.get('location') as string).searchParams.get('code') as string, ms };
}

async function token(base: string, code: string, verifier: string): Promise<number> {
  const t = performance.now();
  const tok = await fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'console', code_verifier: verifier }).toString() });
  const text = await tok.text();
  const ms = performance.now() - t;
  if (tok.status !== 200 || !(JSON.parse(text) as { id_token?: string }).id_token) throw new Error(`token ${tok.status}`);
  sizes.tokenJsonBytes = text.length;
  return ms;
}

async function oneLogin(base: string, n: number): Promise<Sample> {
  const s = await authorize(base, n);
  const a = await acs(base, n, s);
  return { authorize: s.ms, acs: a.ms, token: await token(base, a.code, s.verifier) };
}

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

const ROLES: ThreadRole[] = ['event loop', 'worker threads', 'V8 helpers (GC, compiler)', 'libuv pool', 'other'];
const minus = (after: Map<ThreadRole, number>, before: Map<ThreadRole, number>) => new Map(ROLES.map((r) => [r, (after.get(r) ?? 0) - (before.get(r) ?? 0)]));

/** A gauge of the server's /metrics, in ms (the event-loop delay gauges are in seconds). */
function gaugeMs(exposition: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(exposition);
  return m ? Number(m[1]) * 1000 : NaN;
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
  const floor = cryptoFloor(idTokenAlg);
  const loadAtStart = loadavg()[0] as number;
  // RS256 (the OIDC default) and ES256 ID tokens are two rows of the results table.
  const results = startResults(idTokenAlg === 'RS256' ? 'login' : 'login-es256', 'bench:login');
  const asInTheImage = fillCompileCacheLikeTheImage();
  const sp = await SpServerProcess.start({
    configFile,
    users,
    port,
    logLevel: 'warn',
    signingKeys: testSigningKeyPems(),
    clients: [{ client_id: 'console', redirect_uris: [REDIRECT], id_token_signed_response_alg: idTokenAlg }],
    ...(redis ? { redisURL: redis.url } : {}),
    ...(process.env.SP_NODE_OPTIONS ? { env: { NODE_OPTIONS: process.env.SP_NODE_OPTIONS } } : {}),
  });
  const pid = sp.pid as number;
  const logins = Number(values.logins);
  const levels = values.concurrency.split(',').map(Number);
  const serverRows: Array<{ concurrency: number; cpu: number; clientCpu: number; p50: number; p99: number }> = [];
  let perStep = { authorize: NaN, acs: NaN, token: NaN };
  try {
    const warmup = Number(values.warmup);
    await run(warmup, 4, (n) => oneLogin(base, n));
    // The server's own background work (timers, the event-loop monitor), over 5 s: subtracted below.
    const idle = await serverCpuMs(pid, 5, () => new Promise((r) => setTimeout(r, 5000)));
    console.log(`login path /authorize → ACS → /token, state: ${redis ? 'Redis' : 'memory'}, ${idTokenAlg} ID tokens (ES256 access tokens), ${ATTRIBUTES} attribute values, response and assertion signed; Node ${process.version}, ${availableParallelism()} cores shared by the sp-server and this client, load average ${loadAtStart.toFixed(1)} at start`);
    console.log(`warm-up: ${warmup} full logins at concurrency 4; ${logins} logins per level; the server idles at ${idle.msEach.toFixed(1)} ms CPU/s, subtracted from the totals below (/proc counts 10 ms ticks)`);
    console.log(`crypto floor (node:crypto in this process, same run): ${idTokenAlg === 'RS256' ? `RS256 sign ${floor.rs256SignMs.toFixed(3)}` : `ES256 sign ${floor.es256SignMs.toFixed(3)}`} + 2 × RSA-2048 verify ${floor.rsaVerifyMs.toFixed(3)} + ES256 sign ${floor.es256SignMs.toFixed(3)} = ${floor.perLoginMs.toFixed(2)} ms CPU per login`);
    console.log('concurrency  logins  logins/s   p50 ms   p99 ms  server CPU ms/login  × crypto floor   (authorize p50/p99 | acs p50/p99 | token p50/p99)');
    for (const c of levels) {
      await sp.metrics(); // resets the event-loop delay histogram
      const roles0 = cpuSecondsByRole(pid);
      const client0 = process.cpuUsage();
      const { result, msEach } = await serverCpuMs(pid, logins, () => run(logins, c, (n) => oneLogin(base, n)), idle.msEach);
      const client = process.cpuUsage(client0);
      const roles = minus(cpuSecondsByRole(pid), roles0);
      const exposition = await sp.metrics();
      const { results: samples, seconds } = result;
      const total = samples.map((s) => s.authorize + s.acs + s.token);
      const f = (xs: number[]) => `${pct(xs, 50).toFixed(2)}/${pct(xs, 99).toFixed(2)}`;
      serverRows.push({ concurrency: c, cpu: msEach, clientCpu: (client.user + client.system) / 1000 / logins, p50: pct(total, 50), p99: pct(total, 99) });
      console.log(
        `${String(c).padStart(11)}  ${String(samples.length).padStart(6)}  ${(samples.length / seconds).toFixed(1).padStart(8)}  ${pct(total, 50).toFixed(2).padStart(7)}  ${pct(total, 99).toFixed(2).padStart(7)}  ${msEach.toFixed(2).padStart(19)}  ${(msEach / floor.perLoginMs).toFixed(2).padStart(14)}   (${f(samples.map((s) => s.authorize))} | ${f(samples.map((s) => s.acs))} | ${f(samples.map((s) => s.token))})`,
      );
      const split = ROLES.filter((r) => (roles.get(r) ?? 0) > 0).map((r) => `${r} ${(((roles.get(r) ?? 0) * 1000) / logins).toFixed(2)}`);
      console.log(
        `${' '.repeat(13)}server CPU ms/login by thread (idle included): ${split.join(', ')}; event-loop delay p99 ${gaugeMs(exposition, 'nodejs_eventloop_lag_p99_seconds').toFixed(1)} ms, max ${gaugeMs(exposition, 'nodejs_eventloop_lag_max_seconds').toFixed(1)} ms; client CPU ${((client.user + client.system) / 1000 / logins).toFixed(2)} ms/login (its signing thread included)`,
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
    perStep = { authorize: onlyAuthorize.msEach, acs: upToAcs.msEach - onlyAuthorize.msEach, token: onlyToken.msEach };
    const sum = perStep.authorize + perStep.acs + perStep.token;
    console.log(`server CPU per step (ms, concurrency 1, ${logins} each): authorize ${perStep.authorize.toFixed(2)}, ACS ${perStep.acs.toFixed(2)}, token ${perStep.token.toFixed(2)}; sum ${sum.toFixed(2)} = ${(sum / floor.perLoginMs).toFixed(2)} × the crypto floor (goal ≤ 1.5 ms)`);
    console.log(`sp-server resident memory (its validation workers included): ${(residentKb(pid, 'VmRSS') / 1024).toFixed(1)} MiB now, ${(residentKb(pid, 'VmHWM') / 1024).toFixed(1)} MiB peak`);
  } finally {
    await sp.stop();
    await redis?.stop();
    await signer.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // The bare server after the sp-server stopped: the same client, sizes and concurrency levels.
  const http = await httpFloor(sizes, levels, logins);
  console.log(`HTTP floor (same run, after the sp-server stopped): the three round trips against a bare node:http server, ${sizes.acsBody.length} B ACS form, ${sizes.locationBytes} B IdP redirect, ${sizes.tokenJsonBytes} B token JSON`);
  console.log('concurrency  server CPU ms/login   p50 ms   p99 ms   sp-server CPU ÷ (crypto + HTTP floor)   sp-server p99 ÷ floor p99');
  for (const h of http) {
    const row = serverRows.find((r) => r.concurrency === h.concurrency);
    const ratio = row ? (row.cpu / (floor.perLoginMs + h.serverCpuMsPerLogin)).toFixed(2) : '—';
    console.log(`${String(h.concurrency).padStart(11)}  ${h.serverCpuMsPerLogin.toFixed(2).padStart(19)}  ${h.p50Ms.toFixed(2).padStart(7)}  ${h.p99Ms.toFixed(2).padStart(7)}   ${ratio.padStart(38)}   ${row ? (row.p99 / h.p99Ms).toFixed(1).padStart(24) : ''}`);
  }
  console.log(`load average ${(loadavg()[0] as number).toFixed(1)} at the end`);
  // The goals are stated at concurrency 8; another level stands in when 8 was not run.
  const row = serverRows.find((r) => r.concurrency === 8) ?? serverRows.at(-1);
  const bare = http.find((h) => h.concurrency === row?.concurrency);
  if (row === undefined || bare === undefined) return;
  const floors = floor.perLoginMs + bare.serverCpuMsPerLogin;
  const steps = perStep.authorize + perStep.acs + perStep.token;
  // Every login's CPU, the server's and this client's, is spent on the same cores: with
  // `concurrency` logins always in flight, no login can take less on average than
  // concurrency × (server + client CPU per login) / cores (Little's law at full utilization).
  const cores = availableParallelism();
  const machineBoundMs = (row.concurrency * (row.cpu + row.clientCpu)) / cores;
  const saved = results.save(`${idTokenAlg} ID tokens, ${ATTRIBUTES} attribute values, ${redis ? 'Redis' : 'memory'} state; warm-up ${values.warmup} logins at concurrency 4, then ${fmt(logins)} logins per level (${levels.join(', ')}); server idle CPU subtracted; the client (this process, its response signing on a thread of its own) shares the cores; ${asInTheImage}`, [
    {
      path: `full login \`/authorize → ACS → /token\`, ${idTokenAlg} ID tokens, server CPU at concurrency ${row.concurrency}`,
      figure: `${row.cpu.toFixed(2)} ms per login`,
      floor: `crypto ${floor.perLoginMs.toFixed(2)} ms (${idTokenAlg} + ES256 signatures, 2 RSA verifies) + HTTP ${bare.serverCpuMsPerLogin.toFixed(2)} ms (the three round trips against a bare node:http server)`,
      ratio: `${(row.cpu / floors).toFixed(2)}× crypto + HTTP (${(row.cpu / floor.perLoginMs).toFixed(2)}× crypto alone)`,
      goal: '≤ 1.5 ms',
      met: row.cpu <= 1.5,
    },
    {
      path: `full login, ${idTokenAlg} ID tokens, latency at concurrency ${row.concurrency}`,
      figure: `p99 ${row.p99.toFixed(1)} ms, p50 ${row.p50.toFixed(1)} ms`,
      floor: `the bare server with the same client: p99 ${bare.p99Ms.toFixed(1)} ms, p50 ${bare.p50Ms.toFixed(1)} ms; the machine's bound on the mean, ${row.concurrency} × (server ${row.cpu.toFixed(2)} + client ${row.clientCpu.toFixed(2)} ms of CPU per login) / ${cores} cores: ${machineBoundMs.toFixed(1)} ms`,
      ratio: `${(row.p99 / bare.p99Ms).toFixed(2)}× the floor's p99`,
      goal: 'p99 < 20 ms at concurrency 8',
      met: row.concurrency === 8 ? row.p99 < 20 : null,
    },
    {
      path: `full login, ${idTokenAlg} ID tokens, server CPU per step at concurrency 1`,
      figure: `authorize ${perStep.authorize.toFixed(2)}, ACS ${perStep.acs.toFixed(2)}, token ${perStep.token.toFixed(2)} ms`,
      floor: `crypto: ACS ${(2 * floor.rsaVerifyMs).toFixed(2)} ms, token ${(floor.perLoginMs - 2 * floor.rsaVerifyMs).toFixed(2)} ms`,
      ratio: `${(steps / floor.perLoginMs).toFixed(2)}× crypto in all`,
      goal: '—',
      met: null,
    },
  ]);
  console.log(`results: ${saved}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
