import http2 from 'node:http2';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlane } from '../test/controlplane/controlplane.ts';
import { kubectl } from '../test/controlplane/kubectl.ts';
import { create, createNamespace, pool, testClient } from '../test/support/kube.ts';
import { loadCredentials } from '../kube/kubeconfig.ts';
import { applyStatus } from '../operator/context.ts';
import { KubeClient } from '../kube/client.ts';
const N = Number(process.env.N ?? 1500), C = 16;
const root = join(import.meta.dirname, '..');
const cp = await ControlPlane.start();
try {
  for (const f of readdirSync(join(root, 'crds', 'bases')).filter((x) => x.endsWith('.yaml'))) await kubectl(cp.kubeconfigPath, ['apply', '--server-side', '-f', join(root, 'crds', 'bases', f)]);
  await kubectl(cp.kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  const client = await testClient(cp.kubeconfigPath);
  await createNamespace(client, 'ns');
  await pool(Array.from({ length: N }, (_, i) => i), 32, (i) => create(client, 'managedusers', 'ns', { kind: 'ManagedUser', metadata: { name: `u-${i}` }, spec: { email: `u${i}@x.example` } }));
  const creds = await loadCredentials(cp.kubeconfigPath);
  const h2c = await KubeClient.create(creds, { connections: 16 });
  const und = await KubeClient.create(creds, { connections: 16 });
  (und as unknown as { h2: undefined }).h2 = undefined;
  const hdrs = await creds.headers();
  const sess = http2.connect(creds.server, { ca: creds.cert ? creds.ca : creds.ca, cert: creds.cert, key: creds.key, servername: creds.servername });
  let flip = 0;
  const status = () => ({ observedGeneration: 1, sso: { available: true, enforced: (flip & 1) === 1, reason: 'NotEnforced', message: 'm'.repeat(60), since: '2026-11-30T00:00:00Z', profile: 'idp' } });
  const bare = (i: number) => new Promise<void>((res, rej) => {
    const body = JSON.stringify({ apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'ManagedUser', metadata: { name: `u-${i}`, namespace: 'ns' }, status: status() });
    const s = sess.request({ ...hdrs, ':method': 'PATCH', ':path': `/apis/sso.gatehouse.dev/v1alpha1/namespaces/ns/managedusers/u-${i}/status?fieldManager=gatehouse-operator&force=true`, 'content-type': 'application/apply-patch+yaml', accept: 'application/json' });
    s.on('response', (h) => { if (h[':status'] !== 200) rej(new Error(String(h[':status']))); });
    s.resume(); s.on('end', () => res()); s.on('error', rej); s.end(body);
  });
  const runs: Record<string, (i: number) => Promise<void>> = {
    undici: (i) => applyStatus({ client: und }, 'ManagedUser', 'ns', `u-${i}`, status()),
    h2client: (i) => applyStatus({ client: h2c }, 'ManagedUser', 'ns', `u-${i}`, status()),
    bareHttp2: bare,
  };
  for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
    for (const [name, fn] of Object.entries(runs)) {
      flip++;
      const c0 = process.cpuUsage(); const t0 = performance.now();
      await pool(Array.from({ length: N }, (_, i) => i), C, fn);
      const c = process.cpuUsage(c0); const s = (performance.now() - t0) / 1000;
      console.log(round, name.padEnd(10), `${((c.user + c.system) / 1000 / N).toFixed(3)} ms/patch`, `${Math.round(N / s)}/s`);
    }
  }
  sess.close(); await h2c.close(); await und.close(); await client.close();
} finally { await cp.stop(); }
