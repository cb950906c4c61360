// SCIM benchmark against a real kube-apiserver + etcd started for the run:
//   1. users created per second through POST /Users (each a ManagedUser in the API server),
//   2. GET /Users?filter=userName eq "…" latency (p50/p99) with that many users in the organization,
//   3. an IdP's full import (unfiltered pages of 100) and a filter no index label serves.
// Usage: hack/env.sh npm run bench:scim   (SCIM_BENCH_USERS=10000, SCIM_BENCH_CONCURRENCY=16, SCIM_BENCH_LOOKUPS=1000)
import { join } from 'node:path';
import { ControlPlane } from '../test/controlplane/controlplane.ts';
import { kubectl } from '../test/controlplane/kubectl.ts';
import { CORE_USER, ScimHarness } from '../test/support/scim.ts';

const USERS = Number(process.env.SCIM_BENCH_USERS ?? 10_000);
const CONCURRENCY = Number(process.env.SCIM_BENCH_CONCURRENCY ?? 16);
const LOOKUPS = Number(process.env.SCIM_BENCH_LOOKUPS ?? 1000);
const root = join(import.meta.dirname, '..');

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

const cp = await ControlPlane.start();
let harness: ScimHarness | undefined;
try {
  const crds = await kubectl(cp.kubeconfigPath, ['apply', '--server-side', '-f', join(root, 'crds', 'bases')]);
  if (crds.code !== 0) throw new Error(crds.stderr);
  const wait = await kubectl(cp.kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  if (wait.code !== 0) throw new Error(wait.stderr);

  harness = await ScimHarness.start(cp.kubeconfigPath);
  const h = harness;
  const org = await h.organization('bench', ['bench.example']);
  const email = (i: number) => `user${String(i).padStart(6, '0')}@bench.example`;

  let failures = 0;
  const t0 = performance.now();
  await pool(USERS, CONCURRENCY, async (i) => {
    const res = await h.request(org, 'POST', '/Users', {
      schemas: [CORE_USER],
      userName: email(i),
      externalId: `ext-${i}`,
      name: { givenName: 'Bench', familyName: `User ${i}` },
      emails: [{ value: email(i), type: 'work', primary: true }],
      active: true,
    });
    if (res.status !== 201) {
      failures++;
      if (failures <= 3) console.error(`create ${i}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    if ((i + 1) % 1000 === 0) console.error(`  created ${i + 1}`);
  });
  const createSeconds = (performance.now() - t0) / 1000;
  const created = USERS - failures;

  const lookup = async (filter: string) => {
    const s = performance.now();
    const res = await h.request(org, 'GET', `/Users?filter=${encodeURIComponent(filter)}`);
    const ms = performance.now() - s;
    if (res.status !== 200) throw new Error(`lookup ${filter}: ${res.status}`);
    return { ms, total: res.body.totalResults };
  };

  for (let i = 0; i < 20; i++) await lookup(`userName eq "${email(i)}"`); // warm-up
  const latencies: number[] = [];
  for (let k = 0; k < LOOKUPS; k++) {
    const i = Math.floor(Math.random() * USERS);
    const { ms, total } = await lookup(`userName eq "${email(i).toUpperCase()}"`);
    if (total !== 1) throw new Error(`userName eq ${email(i)} found ${total}`);
    latencies.push(ms);
  }
  latencies.sort((a, b) => a - b);
  const scans: number[] = [];
  for (let k = 0; k < 3; k++) scans.push((await lookup(`name.familyName eq "User ${k * 7}"`)).ms);

  // An IdP's full import: unfiltered pages of 100, walked in order.
  const pageMs: number[] = [];
  let imported = 0;
  const tImport = performance.now();
  for (let start = 1; start <= USERS; start += 100) {
    const s = performance.now();
    const res = await h.request(org, 'GET', `/Users?startIndex=${start}&count=100`);
    pageMs.push(performance.now() - s);
    if (res.status !== 200 || res.body.totalResults !== USERS) throw new Error(`import page ${start}: ${res.status} total=${res.body.totalResults}`);
    imported += res.body.Resources?.length ?? 0;
  }
  const importSeconds = (performance.now() - tImport) / 1000;
  if (imported !== USERS) throw new Error(`import saw ${imported} users`);
  pageMs.sort((a, b) => a - b);

  const result = {
    users: USERS,
    concurrency: CONCURRENCY,
    created,
    createSeconds: Number(createSeconds.toFixed(1)),
    usersPerSecond: Number((created / createSeconds).toFixed(1)),
    userNameEqLookups: LOOKUPS,
    userNameEqP50ms: Number(percentile(latencies, 50).toFixed(2)),
    userNameEqP99ms: Number(percentile(latencies, 99).toFixed(2)),
    fullImportSeconds: Number(importSeconds.toFixed(1)),
    importPageOf100P50ms: Number(percentile(pageMs, 50).toFixed(1)),
    importPageOf100P99ms: Number(percentile(pageMs, 99).toFixed(1)),
    unindexedFilterScanMs: Number((scans.reduce((a, b) => a + b, 0) / scans.length).toFixed(0)),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await harness?.stop();
  await cp.stop();
}
