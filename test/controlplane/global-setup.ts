// vitest global setup for the integration project: one control plane for the whole run, with
// the generated CRDs installed and Established. Tests get the kubeconfig path through inject().
import type { TestProject } from 'vitest/node';
import { ControlPlane } from './controlplane.ts';
import { installCRDs } from './kubectl.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cp = await ControlPlane.start();
  try {
    await installCRDs(cp.kubeconfigPath);
  } catch (err) {
    await cp.stop();
    throw err;
  }
  project.provide('kubeconfig', cp.kubeconfigPath);
  return () => cp.stop();
}
