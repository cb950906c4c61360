// Benchmark: the client CPU of one status write (server-side apply of /status, as the operator
// sends it) through the KubeClient — through undici (the default) and over its optional HTTP/2
// session (`http2: true`) — against its floor measured in the same run: the same PATCH written on one bare
// node:http2 session with nothing around it. The three take turns in each round, at the same
// concurrency, against one kube-apiserver; CPU is this process's (process.cpuUsage).
//   hack/env.sh node bench/kube-client.ts [-- --patches 1500 --rounds 3 --concurrency 16]
import http2 from 'node:http2';
import { parseArgs } from 'node:util';
import { ControlPlane } from '../test/controlplane/controlplane.ts';
import { installCRDs } from '../test/controlplane/kubectl.ts';
import { create, createNamespace, pool, testClient } from '../test/support/kube.ts';
import { API_VERSION } from '../crds/api/index.ts';
import { KubeClient } from '../kube/client.ts';
import { loadCredentials } from '../kube/kubeconfig.ts';
import { applyStatus, FIELD_MANAGER } from '../operator/context.ts';
import { fmt, startResults } from './results.ts';

const { values } = parseArgs({
  options: {
    patches: { type: 'string', default: '1500' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
  },
});
const N = Number(values.patches);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const NS = 'bench';
const log = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

const benchResults = startResults('kube-client', 'bench:kube-client');
const cp = await ControlPlane.start();
try {
  await installCRDs(cp.kubeconfigPath);
  const setup = await testClient(cp.kubeconfigPath);
  await createNamespace(setup, NS);
  await pool(Array.from({ length: N }, (_, i) => i), 32, (i) => create(setup, 'managedusers', NS, { kind: 'ManagedUser', metadata: { name: `user-${i}` }, spec: { email: `user${i}@bench.example` } }));
  await setup.close();

  const creds = await loadCredentials(cp.kubeconfigPath);
  const overHttp2 = await KubeClient.create(creds, { connections: CONCURRENCY, http2: true });
  const overUndici = await KubeClient.create(creds, { connections: CONCURRENCY });
  const auth = await creds.headers();
  const bare = http2.connect(creds.server, { ca: creds.ca, cert: creds.cert, key: creds.key, servername: creds.servername, rejectUnauthorized: !creds.insecureSkipTLSVerify });

  // Each pass writes a real change (enforced flips), as the operator's writes are.
  let pass = 0;
  const status = () => ({ observedGeneration: 1, sso: { available: true, enforced: pass % 2 === 1, reason: 'NotEnforced', message: 'SSO is available through SSOProfile idp but not enforced on bench.example', since: '2026-11-30T00:00:00Z', profile: 'idp' } });
  const barePatch = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ apiVersion: API_VERSION, kind: 'ManagedUser', metadata: { name: `user-${i}`, namespace: NS }, status: status() });
      const s = bare.request({ ...auth, accept: 'application/json', 'content-type': 'application/apply-patch+yaml', ':method': 'PATCH', ':path': `/apis/sso.gatehouse.dev/v1alpha1/namespaces/${NS}/managedusers/user-${i}/status?fieldManager=${FIELD_MANAGER}&force=true` });
      s.on('response', (h) => void (h[':status'] !== 200 && reject(new Error(`status ${h[':status']}`))));
      s.on('end', () => resolve());
      s.on('error', reject);
      s.resume();
      s.end(body);
    });
  const contenders: Record<string, (i: number) => Promise<void>> = {
    'KubeClient (HTTP/2 session)': (i) => applyStatus({ client: overHttp2 }, 'ManagedUser', NS, `user-${i}`, status()),
    'KubeClient (undici)': (i) => applyStatus({ client: overUndici }, 'ManagedUser', NS, `user-${i}`, status()),
    'floor: bare node:http2': barePatch,
  };
  const results: Record<string, { cpuMsPerPatch: number[]; patchesPerSecond: number[] }> = {};
  // Round 0 warms up every contender (JIT, connections) and is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, patch] of Object.entries(contenders)) {
      pass++;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await pool(Array.from({ length: N }, (_, i) => i), CONCURRENCY, patch);
      const cpu = process.cpuUsage(cpu0);
      const seconds = (performance.now() - t0) / 1000;
      const cpuMs = (cpu.user + cpu.system) / 1000 / N;
      log(`${round === 0 ? 'warm-up' : `round ${round}`}: ${name}: ${cpuMs.toFixed(3)} ms of CPU per patch, ${Math.round(N / seconds)}/s`);
      if (round === 0) continue;
      const r = (results[name] ??= { cpuMsPerPatch: [], patchesPerSecond: [] });
      r.cpuMsPerPatch.push(Number(cpuMs.toFixed(3)));
      r.patchesPerSecond.push(Math.round(N / seconds));
    }
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return Number((s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2).toFixed(3));
  };
  const floor = median(results['floor: bare node:http2']?.cpuMsPerPatch ?? []);
  const summary = Object.fromEntries(Object.entries(results).map(([name, r]) => [name, { ...r, medianCpuMsPerPatch: median(r.cpuMsPerPatch), costToFloor: Number((median(r.cpuMsPerPatch) / floor).toFixed(2)) }]));
  process.stdout.write(JSON.stringify({ patchesPerRound: N, rounds: ROUNDS, concurrency: CONCURRENCY, warmUp: 'one uncounted round of every contender', results: summary }, null, 2) + '\n');
  const session = summary['KubeClient (HTTP/2 session)'];
  const undici = summary['KubeClient (undici)'];
  if (session && undici) {
    const saved = benchResults.save(`${fmt(N)} patches per round at concurrency ${CONCURRENCY}, ${ROUNDS} rounds after one uncounted warm-up round, the contenders taking turns; medians`, [
      {
        path: 'the Kubernetes client\'s status write (server-side apply of a ManagedUser status)',
        figure: `${session.medianCpuMsPerPatch.toFixed(2)} ms of CPU per patch over the HTTP/2 session (the operator's), ${undici.medianCpuMsPerPatch.toFixed(2)} ms over undici`,
        floor: `the same PATCH on a bare node:http2 session: ${floor.toFixed(2)} ms`,
        ratio: `${session.costToFloor.toFixed(2)}× (undici ${undici.costToFloor.toFixed(2)}×)`,
        goal: '—',
        met: null,
      },
    ]);
    log(`results: ${saved}`);
  }
  bare.close();
  await Promise.all([overHttp2.close(), overUndici.close()]);
} finally {
  await cp.stop();
}
