// vitest global setup for the integration project: one control plane for the whole run, with
// the generated CRDs installed and Established. Tests get the kubeconfig path through inject().
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ControlPlane } from './controlplane.ts';
import { kubectl } from './kubectl.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}

const root = join(import.meta.dirname, '..', '..');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cp = await ControlPlane.start();
  try {
    const crdDir = join(root, 'crds', 'bases');
    for (const file of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) {
      const res = await kubectl(cp.kubeconfigPath, ['apply', '--server-side', '-f', join(crdDir, file)]);
      if (res.code !== 0) throw new Error(`installing ${file} failed: ${res.stderr}`);
    }
    const wait = await kubectl(cp.kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    if (wait.code !== 0) throw new Error(`CRDs not Established: ${wait.stderr}`);
  } catch (err) {
    await cp.stop();
    throw err;
  }
  project.provide('kubeconfig', cp.kubeconfigPath);
  return () => cp.stop();
}
