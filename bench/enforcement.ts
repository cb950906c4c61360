// Benchmark: enforcement of one domain over N ManagedUsers, against its floor measured in the same
// run on the same control plane — a plain KubeClient writing the same status by server-side apply
// (the operator's field manager, force) to the same N users, at a few concurrencies. Prints both
// rates and their ratio (goal ≥ 0.8), the operator's CPU per enforced user (goal ≤ 0.5 ms, from
// /proc/<pid>/stat: utime+stime, what process.cpuUsage reports inside it) and its peak RSS (goal
// < 250 MiB). The floor runs before the operator starts and again after it stopped, so load that
// other processes put on the machine shows as a spread between the two.
//   hack/env.sh npm run bench:enforcement [-- --users 10000 --floor-concurrency 8,16,32]
// (USERS=…, FLOOR_CONCURRENCY=…, OPERATOR_NODE_OPTIONS=… for V8 flags such as --cpu-prof.)
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ControlPlane } from '../test/controlplane/controlplane.ts';
import { kubectl } from '../test/controlplane/kubectl.ts';
import { DnsServer } from '../test/support/dns-server.ts';
import { metadataXml } from '../test/support/idp-fixtures.ts';
import { create, createNamespace, crPath, getProfile, pool, testClient } from '../test/support/kube.ts';
import { OperatorProcess } from '../test/support/operator-process.ts';
import { recordTestResult, verifyDomain } from '../test/support/organization.ts';
import { waitFor } from '../test/support/wait.ts';
import type { ManagedUserStatus } from '../crds/api/index.ts';
import type { KubeClient } from '../kube/client.ts';
import { rfc3339 } from '../operator/conditions.ts';
import { applyStatus } from '../operator/context.ts';
import { cpuSeconds, residentKb } from './proc-stats.ts';
import { fmt, startResults } from './results.ts';
import { fillCompileCacheLikeTheImage } from './compile-cache.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: process.env.USERS ?? '10000' },
    'floor-concurrency': { type: 'string', default: process.env.FLOOR_CONCURRENCY ?? '8,16,32' },
    // Only the operator's memory with N users cached: no floor, no enforcement (for N = 100,000
    // on a machine where writing N statuses several times takes hours).
    'memory-only': { type: 'boolean', default: process.env.MEMORY_ONLY === '1' },
  },
});
const USERS = Number(values.users);
// 100,000 users with enforcement is a run of its own (about 40 minutes): its figures do not replace the 10,000-user ones.
const results = startResults(values['memory-only'] ? 'enforcement-100k' : USERS >= 100_000 ? 'enforcement-100k-rate' : 'enforcement', 'bench:enforcement', ['USERS', 'FLOOR_CONCURRENCY', 'MEMORY_ONLY', 'OPERATOR_NODE_OPTIONS']);
const asInTheImage = fillCompileCacheLikeTheImage();
const FLOOR_CONCURRENCY = values['floor-concurrency'].split(',').map(Number);
const NS = 'bigcorp';
const DOMAIN = 'bigcorp.example';
const root = join(import.meta.dirname, '..');
const log = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);
const MiB = (kb: number) => Number((kb / 1024).toFixed(1));

/** The status the operator writes for a user of the domain, enforced or not (same fields, same sizes). */
function userStatus(enforced: boolean, at: string): ManagedUserStatus {
  const reason = enforced ? 'DomainEnforced' : 'NotEnforced';
  const message = enforced ? `SSO is enforced on ${DOMAIN} by SSOProfile idp` : `SSO is available through SSOProfile idp but not enforced on ${DOMAIN}`;
  return {
    observedGeneration: 1,
    conditions: [{ type: 'Ready', status: 'True', reason, message, lastTransitionTime: at, observedGeneration: 1 }],
    sso: { available: true, enforced, reason, message, since: at, profile: 'idp' },
  };
}

interface FloorPass {
  concurrency: number;
  patchesPerSecond: number;
  clientCpuMsPerPatch: number;
}

/** One pass of the floor: every user's status rewritten (a real change each pass) by a plain client. */
async function floorPass(client: KubeClient, concurrency: number, enforced: boolean): Promise<FloorPass> {
  const status = userStatus(enforced, rfc3339(new Date()));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await pool(Array.from({ length: USERS }, (_, i) => i), concurrency, (i) => applyStatus({ client }, 'ManagedUser', NS, `user-${i}`, status));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const pass = { concurrency, patchesPerSecond: Math.round(USERS / seconds), clientCpuMsPerPatch: Number(((cpu.user + cpu.system) / 1000 / USERS).toFixed(3)) };
  log(`floor: ${pass.patchesPerSecond} status patches/s at concurrency ${concurrency} (client CPU ${pass.clientCpuMsPerPatch} ms each)`);
  return pass;
}

/** The operator's resident memory once it has listed N users, and while it writes their first decisions. */
async function memoryOnly(startOperator: () => Promise<OperatorProcess>): Promise<void> {
  const t0 = performance.now();
  const started = await startOperator();
  const pid = started.pid as number;
  const synced = { seconds: Number(((performance.now() - t0) / 1000).toFixed(1)), rssMiB: MiB(residentKb(pid, 'VmRSS')), peakRssMiB: MiB(residentKb(pid, 'VmHWM')) };
  log(`operator synced with ${USERS} users: ${JSON.stringify(synced)}; sampling for 60 s while it writes first decisions`);
  let maxRss = 0;
  for (let i = 0; i < 240; i++) {
    maxRss = Math.max(maxRss, residentKb(pid, 'VmRSS'));
    await new Promise((r) => setTimeout(r, 250));
  }
  const heapUsed = await started.metric('gatehouse_operator_nodejs_heap_size_used_bytes');
  const result = { users: USERS, afterSync: synced, next60s: { maxRssMiB: MiB(maxRss), peakRssMiB: MiB(residentKb(pid, 'VmHWM')), heapUsedAtEndMiB: Number((heapUsed / 1048576).toFixed(1)) }, goals: { peakRssMiB: 250 } };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  const peak = result.next60s.peakRssMiB;
  const saved = results.save(`${fmt(USERS)} ManagedUsers listed and cached by the operator, then 60 s while it writes its first decisions (RSS sampled every 250 ms); no enforcement; ${asInTheImage}`, [
    { path: `operator memory with ${fmt(USERS)} users cached`, figure: `peak RSS ${peak} MiB (${result.afterSync.rssMiB} MiB after the list; heap used ${result.next60s.heapUsedAtEndMiB} MiB)`, floor: '—', ratio: '—', goal: '< 250 MiB', met: peak < 250 },
  ]);
  log(`results: ${saved}`);
  await started.stop();
}

const cp = await ControlPlane.start();
let op: OperatorProcess | undefined;
let dns: DnsServer | undefined;
try {
  for (const f of readdirSync(join(root, 'crds', 'bases')).filter((x) => x.endsWith('.yaml'))) {
    const r = await kubectl(cp.kubeconfigPath, ['apply', '--server-side', '-f', join(root, 'crds', 'bases', f)]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  await kubectl(cp.kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  const client = await testClient(cp.kubeconfigPath);
  await createNamespace(client, 'gatehouse-system');
  await createNamespace(client, NS);
  dns = await DnsServer.start();
  const startOperator = async () => {
    const started = await OperatorProcess.start({
      kubeconfig: cp.kubeconfigPath,
      namespace: 'gatehouse-system',
      dnsServers: [(dns as DnsServer).address],
      args: ['--domain-recheck-interval=300ms', '--log-level=warn'],
      env: { NODE_OPTIONS: process.env.OPERATOR_NODE_OPTIONS ?? '' },
      waitReady: false,
    });
    // Listing 100,000 users takes longer than the usual readiness wait.
    await started.waitReady(600_000);
    return started;
  };

  // The organization first (a verified domain, a tested profile), with an operator that then stops:
  // the users' first decisions are the floor's warm-up below, not thousands of extra writes.
  op = await startOperator();
  await verifyDomain(client, dns, NS, DOMAIN);
  await create(client, 'ssoprofiles', NS, {
    kind: 'SSOProfile',
    metadata: { name: 'idp' },
    spec: { idp: { metadata: { xml: metadataXml() } }, domains: [DOMAIN], test: { email: `tester@${DOMAIN}` } },
  });
  await recordTestResult(client, NS, 'idp', 'Succeeded', `tester@${DOMAIN}`);
  await waitFor('the profile to serve its domain, tested', async () => {
    const p = await getProfile(client, NS, 'idp');
    return p.status?.conditions?.find((c) => c.type === 'Tested')?.status === 'True' && p.status.conditions.find((c) => c.type === 'DomainsVerified')?.status === 'True';
  }, 60_000);
  await op.stop();
  op = undefined;

  log(`creating ${USERS} ManagedUsers`);
  let t0 = performance.now();
  await pool(Array.from({ length: USERS }, (_, i) => i), 48, (i) =>
    create(client, 'managedusers', NS, { kind: 'ManagedUser', metadata: { name: `user-${i}` }, spec: { email: `user${i}@${DOMAIN}` } }),
  );
  log(`created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  if (values['memory-only']) await memoryOnly(startOperator);
  else await enforcementAgainstFloor();

  async function enforcementAgainstFloor(): Promise<void> {
    // Floor, before: a warm-up pass that gives every user a status, then one measured pass per
    // concurrency, each a real change, the last one writing the decision the operator will find
    // right ("not enforced") so that it starts idle.
    const last = FLOOR_CONCURRENCY.length - 1;
    log('floor: warm-up pass');
    await floorPass(client, 16, last % 2 === 0);
    const before: FloorPass[] = [];
    for (const [i, c] of FLOOR_CONCURRENCY.entries()) before.push(await floorPass(client, c, (last - i) % 2 === 1));
    const best = before.reduce((a, b) => (b.patchesPerSecond > a.patchesPerSecond ? b : a));

    op = await startOperator();
    const pid = op.pid as number;
    log('operator started; waiting until it is idle (its decisions match the ones written)');
    const idle = async () => (await op?.metric('gatehouse_operator_workqueue_depth')) === 0;
    await waitFor('the operator to be idle', idle, 600_000, undefined, 1000);
    await new Promise((r) => setTimeout(r, 3000));
    await waitFor('the operator to be idle', idle, 600_000, undefined, 1000);

    const requestsBefore = await op.metric('gatehouse_operator_api_requests_total');
    const userReconcilesBefore = await op.metric('gatehouse_operator_reconcile_total', { kind: 'ManagedUser' });
    const rssAtStart = residentKb(pid, 'VmRSS');
    const cpuAtStart = cpuSeconds(pid);
    let maxRss = rssAtStart;
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, residentKb(pid, 'VmRSS'))), 250);
    log('turning enforcement on');
    t0 = performance.now();
    await client.call('PATCH', crPath('ssoprofiles', NS, 'idp'), { contentType: 'application/merge-patch+json', body: { spec: { enforcement: { domains: [DOMAIN] } } } });
    let lastLogged = 0;
    await waitFor('enforcedUsers to reach the user count', async () => {
      const e = (await getProfile(client, NS, 'idp')).status?.enforcement;
      if (performance.now() - lastLogged > 5000) {
        lastLogged = performance.now();
        log(`enforcedUsers=${e?.enforcedUsers ?? 0} phase=${e?.phase}`);
      }
      return e?.phase === 'Enforced' && (e.enforcedUsers ?? 0) >= USERS;
    }, 1_800_000, undefined, 100);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpuAtStart;
    clearInterval(sampler);
    const requests = (await op.metric('gatehouse_operator_api_requests_total')) - requestsBefore;
    const userReconciles = (await op.metric('gatehouse_operator_reconcile_total', { kind: 'ManagedUser' })) - userReconcilesBefore;
    const heapUsed = await op.metric('gatehouse_operator_nodejs_heap_size_used_bytes');
    const peakRss = residentKb(pid, 'VmHWM');
    await op.stop();
    op = undefined;

    // Floor, after, at the best concurrency: the spread to the first says how much the machine's load moved.
    const after = await floorPass(client, best.concurrency, false);
    const floor = (best.patchesPerSecond + after.patchesPerSecond) / 2;
    const rate = USERS / seconds;
    const result = {
      users: USERS,
      warmUp: `one floor pass of ${USERS} patches at concurrency 16 before the measured ones; the operator started and went idle (${USERS} users reconciled, nothing to write) before enforcement`,
      floor: { before, after, bestConcurrency: best.concurrency, patchesPerSecond: Math.round(floor) },
      operator: {
        secondsUntilEnforced: Number(seconds.toFixed(2)),
        usersPerSecond: Math.round(rate),
        cpuSeconds: Number(cpu.toFixed(2)),
        cpuMsPerUser: Number(((cpu * 1000) / USERS).toFixed(3)),
        rssAtStartMiB: MiB(rssAtStart),
        maxRssDuringEnforcementMiB: MiB(maxRss),
        peakRssMiB: MiB(peakRss),
        heapUsedAtEndMiB: Number((heapUsed / 1048576).toFixed(1)),
        apiRequests: requests,
        // One per user is the write; a second would be the write's own watch event re-decided.
        userReconcilesPerUser: Number((userReconciles / USERS).toFixed(2)),
        nodeOptions: process.env.OPERATOR_NODE_OPTIONS ?? '',
      },
      ratioToFloor: Number((rate / floor).toFixed(2)),
    // The bare client's CPU per write in the floor passes: what one status write costs any client here.
    cpuPerUserToFloorClientCpu: Number(((cpu * 1000) / USERS / ((best.clientCpuMsPerPatch + after.clientCpuMsPerPatch) / 2)).toFixed(2)),
      goals: { ratioToFloor: 0.8, cpuMsPerUser: 0.5, peakRssMiB: 250 },
      met: rate / floor >= 0.8 && (cpu * 1000) / USERS <= 0.5 && peakRss / 1024 < 250,
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    const cpuMs = result.operator.cpuMsPerUser;
    const clientMs = [...before, after].map((p) => p.clientCpuMsPerPatch);
    const saved = results.save(`${fmt(USERS)} users; floor: one uncounted pass, then ${before.map((p) => `concurrency ${p.concurrency}`).join(', ')} before the operator and concurrency ${best.concurrency} after it stopped; the operator started and went idle before enforcement; ${asInTheImage}`, [
      {
        path: `enforcement of ${fmt(USERS)} ManagedUsers`,
        figure: `${fmt(rate)} users/s`,
        floor: `plain client's SSA status patches to the same users: ${fmt(best.patchesPerSecond)}/s before, ${fmt(after.patchesPerSecond)}/s after`,
        ratio: `${result.ratioToFloor.toFixed(2)}× the floor`,
        goal: '≥ 0.8×',
        met: result.ratioToFloor >= 0.8,
      },
      {
        path: `operator CPU per enforced user, ${fmt(USERS)} users`,
        figure: `${cpuMs.toFixed(2)} ms (peak RSS ${result.operator.peakRssMiB} MiB)`,
        floor: `the plain client's CPU per status patch: ${Math.min(...clientMs).toFixed(2)}–${Math.max(...clientMs).toFixed(2)} ms`,
        ratio: `${result.cpuPerUserToFloorClientCpu.toFixed(2)}× one write`,
        goal: '≤ 0.5 ms; peak RSS < 250 MiB',
        met: cpuMs <= 0.5 && result.operator.peakRssMiB < 250,
      },
    ]);
    log(`results: ${saved}`);
  }
  await client.close();
} finally {
  await op?.stop();
  await dns?.stop();
  await cp.stop();
}
