// SCIM benchmark against a real kube-apiserver + etcd started for the run, the SCIM server on a
// worker thread of its own (scim-server.ts), as the sp-server is a process of its own in production:
//   0. the floor: ManagedUsers created per second by a plain KubeClient POST loop at the same
//      concurrency against the same API server (the objects SCIM would write, in another namespace),
//   1. users created per second through POST /Users (each a ManagedUser in the API server), and
//      its ratio to the floor: the mean of one floor pass before and one after, so an API server
//      that slows as it fills (or load that moves during the run) shows as their spread,
//   2. GET /Users?filter=userName eq "…" latency (p50/p99) with that many users in the organization,
//      next to an authenticated GET that reads nothing (ServiceProviderConfig) interleaved with it,
//   3. an IdP's full import (unfiltered pages of 100) and a filter no index label serves.
// Usage: hack/env.sh npm run bench:scim   (SCIM_BENCH_USERS=10000, SCIM_BENCH_CONCURRENCY=16, SCIM_BENCH_LOOKUPS=1000, SCIM_BENCH_WARMUP=200)
// Profile the SCIM server: hack/env.sh node --cpu-prof --cpu-prof-dir=DIR bench/scim.ts (one
// profile per thread; the `mark` lines on stderr are the profiles' clock, to slice out a phase).
import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Pool } from 'undici';
import { API_VERSION } from '../crds/api/index.ts';
import { KubeClient } from '../kube/client.ts';
import { loadCredentials } from '../kube/kubeconfig.ts';
import { pathOf } from '../kube/resources.ts';
import { emailLabelKey, EXTERNAL_ID_LABEL, INDEXED_LABEL, LAST_MODIFIED_ANNOTATION, EXTERNAL_ID_ANNOTATION, ATTRIBUTES_ANNOTATION, userNameForEmail, valueHash } from '../sp-server/scim/labels.ts';
import { ControlPlane } from '../test/controlplane/controlplane.ts';
import { kubectl } from '../test/controlplane/kubectl.ts';
import { createNamespace } from '../test/support/kube.ts';
import { CORE_USER } from '../test/support/scim.ts';
import { fmt, startResults } from './results.ts';
import type { FromServer, ToServer } from './scim-server.ts';

const USERS = Number(process.env.SCIM_BENCH_USERS ?? 10_000);
const CONCURRENCY = Number(process.env.SCIM_BENCH_CONCURRENCY ?? 16);
const LOOKUPS = Number(process.env.SCIM_BENCH_LOOKUPS ?? 1000);
/** Creates before each timed phase, so both the floor and SCIM run warm (JIT, connections). */
const WARMUP = Number(process.env.SCIM_BENCH_WARMUP ?? 200);
const root = join(import.meta.dirname, '..');

/** Monotonic µs, the clock of a `--cpu-prof` profile's timestamps: marks to slice a profile by phase. */
function mark(phase: string): void {
  console.error(`  mark ${phase} ${process.hrtime.bigint() / 1000n}`);
}

const ms = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

/** The SCIM server's thread: its messages, in order. */
class ScimServer {
  private readonly worker: Worker;
  private readonly inbox: FromServer[] = [];
  private waiting: (() => void) | undefined;
  constructor(kubeconfigPath: string, domain: string) {
    this.worker = new Worker(join(import.meta.dirname, 'scim-server.ts'), { workerData: { kubeconfigPath, domain } });
    this.worker.on('message', (m: FromServer) => (this.inbox.push(m), this.waiting?.()));
    this.worker.on('error', (err) => console.error('SCIM server thread failed:', err));
  }
  async next<T extends FromServer['type']>(type: T): Promise<Extract<FromServer, { type: T }>> {
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Extract<FromServer, { type: T }>;
      await Promise.race([new Promise<void>((r) => (this.waiting = r)), once(this.worker, 'exit').then(() => Promise.reject(new Error('SCIM server thread exited')))]);
    }
  }
  send(m: ToServer): void {
    this.worker.postMessage(m);
  }
  /** CPU of the SCIM server's thread alone. */
  cpuUsage(prev?: NodeJS.CpuUsage): Promise<NodeJS.CpuUsage> {
    return this.worker.cpuUsage(prev);
  }
  async stop(): Promise<void> {
    this.send({ type: 'stop' });
    await this.next('stopped');
    await this.worker.terminate();
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** p50 / p99 / mean of sorted latencies, rounded for the report. */
const latencies3 = (sorted: number[]) => [percentile(sorted, 50), percentile(sorted, 99), mean(sorted)].map((x) => Number(x.toFixed(1)));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

const results = startResults('scim', 'bench:scim', ['SCIM_BENCH_USERS', 'SCIM_BENCH_CONCURRENCY', 'SCIM_BENCH_LOOKUPS', 'SCIM_BENCH_WARMUP']);
const cp = await ControlPlane.start();
let server: ScimServer | undefined;
try {
  const crds = await kubectl(cp.kubeconfigPath, ['apply', '--server-side', '-f', join(root, 'crds', 'bases')]);
  if (crds.code !== 0) throw new Error(crds.stderr);
  const wait = await kubectl(cp.kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  if (wait.code !== 0) throw new Error(wait.stderr);

  server = new ScimServer(cp.kubeconfigPath, 'bench.example');
  const ready = await server.next('ready');
  const org = { namespace: ready.namespace, token: ready.token };
  const baseURL = new URL(ready.baseURL);
  const email = (i: number) => `user${String(i).padStart(6, '0')}@bench.example`;

  // The floor: the same API server, the same concurrency, a plain client POSTing the
  // ManagedUser SCIM would write for that user (labels and annotations included).
  let plainPostMs: number[] = [];
  const plain = await KubeClient.create(await loadCredentials(cp.kubeconfigPath), {
    userAgent: 'gatehouse-bench',
    connections: CONCURRENCY,
    onRequest: (e) => void (e.verb === 'post' && plainPostMs.push(e.durationSeconds * 1000)),
  });
  const floorNamespace = 'bench-floor';
  await createNamespace(plain, floorNamespace);
  const plainCreate = async (i: number) => {
    const address = `floor${String(i).padStart(6, '0')}@bench.example`;
    await plain.call('POST', pathOf('ManagedUser', floorNamespace), {
      body: {
        apiVersion: API_VERSION,
        kind: 'ManagedUser',
        metadata: {
          name: userNameForEmail(address),
          labels: { [INDEXED_LABEL]: 'true', [emailLabelKey(address)]: 'true', [EXTERNAL_ID_LABEL]: valueHash(`floor-${i}`, true) },
          annotations: {
            [LAST_MODIFIED_ANNOTATION]: new Date().toISOString(),
            [EXTERNAL_ID_ANNOTATION]: `floor-${i}`,
            [ATTRIBUTES_ANNOTATION]: JSON.stringify({ name: { givenName: 'Bench', familyName: `User ${i}` }, emails: [{ value: address, type: 'work', primary: true }] }),
          },
        },
        spec: { email: address, active: true, displayName: `Bench User ${i}` },
      },
    });
  };
  /** One timed floor pass of USERS creates from index `first` on. */
  const floorPass = async (phase: string, first: number) => {
    mark(`${phase}-start`);
    plainPostMs = [];
    const cpu = process.cpuUsage();
    const serverCpu = await server!.cpuUsage();
    const t = performance.now();
    await pool(USERS, CONCURRENCY, (i) => plainCreate(first + i));
    const seconds = (performance.now() - t) / 1000;
    const pass = { seconds, cpuMs: ms(process.cpuUsage(cpu)), serverCpuMs: ms(await server!.cpuUsage(serverCpu)), postMs: plainPostMs.sort((a, b) => a - b) };
    mark(`${phase}-end`);
    console.error(`  ${phase}: ${USERS} plain creates in ${seconds.toFixed(1)} s`);
    return pass;
  };
  await pool(WARMUP, CONCURRENCY, (i) => plainCreate(2 * USERS + i));
  const floorBefore = await floorPass('floor-before', 0);

  // The IdP side of a create is a plain keep-alive pool too (as lean as the floor's client), so
  // the ratio compares what the SCIM server adds, not the cost of fetch() in this process.
  const idp = new Pool(baseURL.origin, { connections: CONCURRENCY });
  const usersPath = `${baseURL.pathname}/${org.namespace}/Users`;
  const scimCreate = async (i: number) => {
    const res = await idp.request({
      method: 'POST',
      path: usersPath,
      headers: { authorization: `Bearer ${org.token}`, 'content-type': 'application/scim+json', accept: 'application/scim+json' },
      body: JSON.stringify({
        schemas: [CORE_USER],
        userName: email(i),
        externalId: `ext-${i}`,
        name: { givenName: 'Bench', familyName: `User ${i}` },
        emails: [{ value: email(i), type: 'work', primary: true }],
        active: true,
      }),
    });
    return { status: res.statusCode, body: await res.body.text() };
  };
  await pool(WARMUP, CONCURRENCY, async (i) => void (await scimCreate(USERS + i)));
  let failures = 0;
  const createMs: number[] = [];
  server.send({ type: 'reset' });
  mark('scim-start');
  const cpuScim = process.cpuUsage();
  const serverCpuScim = await server.cpuUsage();
  const t0 = performance.now();
  await pool(USERS, CONCURRENCY, async (i) => {
    const s = performance.now();
    const res = await scimCreate(i);
    createMs.push(performance.now() - s);
    if (res.status !== 201) {
      failures++;
      if (failures <= 3) console.error(`create ${i}: ${res.status} ${res.body}`);
    }
    if ((i + 1) % 1000 === 0) console.error(`  created ${i + 1}`);
  });
  const createSeconds = (performance.now() - t0) / 1000;
  const scimCpuMs = ms(process.cpuUsage(cpuScim));
  const scimServerCpuMs = ms(await server.cpuUsage(serverCpuScim));
  mark('scim-end');
  server.send({ type: 'counts' });
  const counts = await server.next('counts');
  const requestsPerCreate = Object.fromEntries(Object.entries(counts.requests).map(([verb, n]) => [verb, Number((n / USERS).toFixed(3))]));
  const serverPostMs = counts.postMs.sort((a, b) => a - b);
  const floorAfter = await floorPass('floor-after', USERS);
  await plain.close();
  const floorRate = (USERS / floorBefore.seconds + USERS / floorAfter.seconds) / 2;
  const created = USERS - failures;

  const lookup = async (filter: string) => {
    const s = performance.now();
    const res = await idp.request({
      method: 'GET',
      path: `${usersPath}?filter=${encodeURIComponent(filter)}`,
      headers: { authorization: `Bearer ${org.token}`, accept: 'application/scim+json' },
    });
    const body = (await res.body.json()) as { totalResults?: number };
    const ms = performance.now() - s;
    if (res.statusCode !== 200) throw new Error(`lookup ${filter}: ${res.statusCode}`);
    return { ms, total: body.totalResults };
  };

  // The lookup's floor, interleaved with it: an authenticated SCIM GET that reads nothing
  // (ServiceProviderConfig) — HTTP, auth and this machine's scheduling without the lookup.
  const trivial = async () => {
    const s = performance.now();
    const res = await idp.request({ method: 'GET', path: `${baseURL.pathname}/${org.namespace}/ServiceProviderConfig`, headers: { authorization: `Bearer ${org.token}` } });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`ServiceProviderConfig: ${res.statusCode}`);
    return performance.now() - s;
  };
  for (let i = 0; i < 200; i++) await lookup(`userName eq "${email(i)}"`), await trivial(); // warm-up
  const latencies: number[] = [];
  const floorLatencies: number[] = [];
  for (let k = 0; k < LOOKUPS; k++) {
    const i = Math.floor(Math.random() * USERS);
    const { ms, total } = await lookup(`userName eq "${email(i).toUpperCase()}"`);
    if (total !== 1) throw new Error(`userName eq ${email(i)} found ${total}`);
    latencies.push(ms);
    floorLatencies.push(await trivial());
  }
  latencies.sort((a, b) => a - b);
  floorLatencies.sort((a, b) => a - b);
  const scans: number[] = [];
  for (let k = 0; k < 3; k++) scans.push((await lookup(`name.familyName eq "User ${k * 7}"`)).ms);

  // An IdP's full import: unfiltered pages of 100, walked in order.
  const pageMs: number[] = [];
  let imported = 0;
  const tImport = performance.now();
  for (let start = 1; start <= USERS + WARMUP; start += 100) {
    const s = performance.now();
    const res = await idp.request({ method: 'GET', path: `${usersPath}?startIndex=${start}&count=100`, headers: { authorization: `Bearer ${org.token}`, accept: 'application/scim+json' } });
    const body = (await res.body.json()) as { totalResults?: number; Resources?: unknown[] };
    pageMs.push(performance.now() - s);
    if (res.statusCode !== 200 || body.totalResults !== USERS + WARMUP) throw new Error(`import page ${start}: ${res.statusCode} total=${body.totalResults}`);
    imported += body.Resources?.length ?? 0;
  }
  const importSeconds = (performance.now() - tImport) / 1000;
  await idp.close();
  if (imported !== USERS + WARMUP) throw new Error(`import saw ${imported} users`);
  pageMs.sort((a, b) => a - b);

  const result = {
    users: USERS,
    concurrency: CONCURRENCY,
    warmupCreatesEach: WARMUP,
    plainClientCreatesPerSecondBefore: Number((USERS / floorBefore.seconds).toFixed(1)),
    plainClientCreatesPerSecondAfter: Number((USERS / floorAfter.seconds).toFixed(1)),
    created,
    createSeconds: Number(createSeconds.toFixed(1)),
    usersPerSecond: Number((created / createSeconds).toFixed(1)),
    ratioToPlainClient: Number((created / createSeconds / floorRate).toFixed(2)),
    ratioToPlainClientBefore: Number((created / createSeconds / (USERS / floorBefore.seconds)).toFixed(2)),
    // CPU of this process per create (every thread): the floor's is the plain client's plus the
    // SCIM server's watch seeing the new object; SCIM's is the IdP's client plus the SCIM server.
    processCpuMsPerPlainCreate: Number((floorBefore.cpuMs / USERS).toFixed(2)),
    processCpuMsPerScimCreate: Number((scimCpuMs / USERS).toFixed(2)),
    // The SCIM server's thread alone: per plain create that is its watch; per SCIM create, the whole request.
    serverCpuMsPerPlainCreate: Number((floorBefore.serverCpuMs / USERS).toFixed(2)),
    serverCpuMsPerScimCreate: Number((scimServerCpuMs / USERS).toFixed(2)),
    apiServerRequestsPerScimCreate: requestsPerCreate,
    // The API server's answer to a POST as each client saw it: the SCIM server's against the plain client's.
    // (p50 / p99 / mean ms), next to the SCIM create as the IdP saw it.
    scimCreateMs: latencies3(createMs.sort((a, b) => a - b)),
    scimServerPostMs: latencies3(serverPostMs),
    plainPostMsBefore: latencies3(floorBefore.postMs),
    plainPostMsAfter: latencies3(floorAfter.postMs),
    usersInOrganization: USERS + WARMUP,
    userNameEqLookups: LOOKUPS,
    userNameEqP50ms: Number(percentile(latencies, 50).toFixed(2)),
    userNameEqP99ms: Number(percentile(latencies, 99).toFixed(2)),
    serviceProviderConfigP50ms: Number(percentile(floorLatencies, 50).toFixed(2)),
    serviceProviderConfigP99ms: Number(percentile(floorLatencies, 99).toFixed(2)),
    lookupP50OverFloor: Number((percentile(latencies, 50) / percentile(floorLatencies, 50)).toFixed(2)),
    fullImportSeconds: Number(importSeconds.toFixed(1)),
    importPageOf100P50ms: Number(percentile(pageMs, 50).toFixed(1)),
    importPageOf100P99ms: Number(percentile(pageMs, 99).toFixed(1)),
    unindexedFilterScanMs: Number((scans.reduce((a, b) => a + b, 0) / scans.length).toFixed(0)),
  };
  console.log(JSON.stringify(result, null, 2));
  const lookupP99 = result.userNameEqP99ms;
  const saved = results.save(`${fmt(USERS)} users at concurrency ${CONCURRENCY}, ${WARMUP} uncounted warm-up creates per client; the plain client's pass before and after the SCIM phase; ${fmt(LOOKUPS)} lookups`, [
    {
      path: 'SCIM user creation',
      figure: `${fmt(result.usersPerSecond, 1)} creates/s (server CPU ${result.serverCpuMsPerScimCreate} ms per create)`,
      floor: `plain client creating the same ManagedUsers: ${fmt(result.plainClientCreatesPerSecondBefore, 1)}/s before, ${fmt(result.plainClientCreatesPerSecondAfter, 1)}/s after`,
      ratio: `${result.ratioToPlainClient.toFixed(2)}× the plain client`,
      goal: '≥ 0.7×',
      met: result.ratioToPlainClient >= 0.7,
    },
    {
      path: `SCIM \`userName eq\` lookup at ${fmt(USERS + WARMUP)} users`,
      figure: `p99 ${lookupP99} ms, p50 ${result.userNameEqP50ms} ms`,
      floor: `GET /ServiceProviderConfig (no lookup) p99 ${result.serviceProviderConfigP99ms} ms`,
      ratio: `${(lookupP99 / result.serviceProviderConfigP99ms).toFixed(2)}× the floor's p99`,
      goal: 'p99 < 10 ms',
      met: lookupP99 < 10,
    },
  ]);
  console.log(`results: ${saved}`);
} finally {
  await server?.stop();
  await cp.stop();
}
