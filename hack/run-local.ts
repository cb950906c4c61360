// `make run`: the whole system on this machine. Today: the control plane with the CRDs and the
// example organization. The operator, sp-server and demo IdP join as they land; each part that
// is not there yet says so instead of pretending.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlane } from '../test/controlplane/controlplane.ts';
import { kubectl } from '../test/controlplane/kubectl.ts';

const root = join(import.meta.dirname, '..');

async function applyDir(kubeconfig: string, dir: string): Promise<void> {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const res = await kubectl(kubeconfig, ['apply', '--server-side', '-f', join(dir, file)]);
    if (res.code !== 0) throw new Error(`kubectl apply ${file}: ${res.stderr}`);
  }
}

const cp = await ControlPlane.start();
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  await cp.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

try {
  await applyDir(cp.kubeconfigPath, join(root, 'crds', 'bases'));
  await kubectl(cp.kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  await applyDir(cp.kubeconfigPath, join(root, 'examples'));
} catch (err) {
  console.error(err);
  await stop();
}

console.log(`
Gatehouse (local)
  control plane   ${cp.server}
  kubeconfig      export KUBECONFIG=${cp.kubeconfigPath}
  example org     kubectl get vd,mu,ssop -n acme
  operator        not yet
  sp-server       not yet
  demo IdP        not yet
  login URL       not yet (needs the sp-server and the demo IdP)

Ctrl-C stops everything.`);
