// Benchmark: one organization with 10,000 ManagedUsers in one domain; turn enforcement on and
// measure the seconds until status.enforcement.enforcedUsers reaches 10,000, the operator's peak
// RSS and how many API requests it sent. Goal on 2 cores with the local control plane: < 30 s,
// < 250 MiB. Run with `hack/env.sh npm run bench:enforcement` (USERS=… to change the size;
// OPERATOR_NODE_OPTIONS=… to pass V8 flags to the operator). It starts its own control plane.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlane } from '../test/controlplane/controlplane.ts';
import { kubectl } from '../test/controlplane/kubectl.ts';
import { DnsServer } from '../test/support/dns-server.ts';
import { metadataXml } from '../test/support/idp-fixtures.ts';
import { create, createNamespace, crPath, getProfile, listUsers, pool, testClient } from '../test/support/kube.ts';
import { waitFor } from '../test/support/wait.ts';
import { OperatorProcess } from '../test/support/operator-process.ts';
import { recordTestResult, verifyDomain } from '../test/support/organization.ts';

const USERS = Number(process.env.USERS ?? 10_000);
const root = join(import.meta.dirname, '..');
const log = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** User + system CPU time of a process, from /proc (clock ticks are 100 Hz on Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
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
  await createNamespace(client, 'bigcorp');
  dns = await DnsServer.start();
  op = await OperatorProcess.start({ kubeconfig: cp.kubeconfigPath, namespace: 'gatehouse-system', dnsServers: [dns.address], args: ['--domain-recheck-interval=300ms', '--log-level=warn'], env: { NODE_OPTIONS: process.env.OPERATOR_NODE_OPTIONS ?? '' } });
  await verifyDomain(client, dns, 'bigcorp', 'bigcorp.example');
  await create(client, 'ssoprofiles', 'bigcorp', {
    kind: 'SSOProfile',
    metadata: { name: 'idp' },
    spec: { idp: { metadata: { xml: metadataXml() } }, domains: ['bigcorp.example'], test: { email: 'tester@bigcorp.example' } },
  });
  await recordTestResult(client, 'bigcorp', 'idp', 'Succeeded', 'tester@bigcorp.example');

  log(`creating ${USERS} ManagedUsers`);
  const t0 = performance.now();
  await pool(Array.from({ length: USERS }, (_, i) => i), 48, (i) =>
    create(client, 'managedusers', 'bigcorp', { kind: 'ManagedUser', metadata: { name: `user-${i}` }, spec: { email: `user${i}@bigcorp.example` } }),
  );
  log(`created in ${((performance.now() - t0) / 1000).toFixed(1)} s; waiting for the operator's first decisions`);
  await waitFor('every user decided', async () => (await listUsers(client, 'bigcorp')).every((u) => u.status?.sso?.reason === 'NotEnforced'), 600_000, undefined, 2000);

  const requestsBefore = await op.metric('gatehouse_operator_api_requests_total');
  const rssAtStart = peakRssMiB(op.pid as number);
  const cpuAtStart = cpuSeconds(op.pid as number);
  log('turning enforcement on');
  const start = performance.now();
  await client.call('PATCH', crPath('ssoprofiles', 'bigcorp', 'idp'), {
    contentType: 'application/merge-patch+json',
    body: { spec: { enforcement: { domains: ['bigcorp.example'] } } },
  });
  let lastLogged = 0;
  let maxHeapUsed = 0;
  let maxHeapTotal = 0;
  let maxExternal = 0;
  const sampler = setInterval(() => {
    op?.metric('gatehouse_operator_nodejs_heap_size_used_bytes').then((v) => (maxHeapUsed = Math.max(maxHeapUsed, v)), () => undefined);
    op?.metric('gatehouse_operator_nodejs_heap_size_total_bytes').then((v) => (maxHeapTotal = Math.max(maxHeapTotal, v)), () => undefined);
    op?.metric('gatehouse_operator_nodejs_external_memory_bytes').then((v) => (maxExternal = Math.max(maxExternal, v)), () => undefined);
  }, 250);
  await waitFor('enforcedUsers to reach the user count', async () => {
    const p = await getProfile(client, 'bigcorp', 'idp');
    const n = p.status?.enforcement?.enforcedUsers ?? 0;
    if (performance.now() - lastLogged > 5000) {
      lastLogged = performance.now();
      log(`enforcedUsers=${n} phase=${p.status?.enforcement?.phase}`);
    }
    return n >= USERS;
  }, 600_000);
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  const requestsAfter = await op.metric('gatehouse_operator_api_requests_total');
  const p = await getProfile(client, 'bigcorp', 'idp');
  const rss = peakRssMiB(op.pid as number);
  const result = {
    users: USERS,
    secondsUntilEnforced: Number(seconds.toFixed(2)),
    phase: p.status?.enforcement?.phase,
    operatorPeakRssMiB: Number(rss.toFixed(1)),
    operatorMaxHeapUsedMiB: Number((maxHeapUsed / 1048576).toFixed(1)),
    operatorMaxHeapTotalMiB: Number((maxHeapTotal / 1048576).toFixed(1)),
    operatorMaxExternalMiB: Number((maxExternal / 1048576).toFixed(1)),
    operatorRssAtStartOfEnforcementMiB: Number(rssAtStart.toFixed(1)),
    operatorCpuSecondsDuringEnforcement: Number((cpuSeconds(op.pid as number) - cpuAtStart).toFixed(2)),
    operatorNodeOptions: process.env.OPERATOR_NODE_OPTIONS ?? '',
    apiRequestsDuringEnforcement: requestsAfter - requestsBefore,
    apiRequestsTotal: requestsAfter,
    goals: { seconds: 30, rssMiB: 250 },
    met: seconds < 30 && rss < 250,
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  await client.close();
} finally {
  await op?.stop();
  await dns?.stop();
  await cp.stop();
}
