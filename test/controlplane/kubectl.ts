// Runs the control plane's own kubectl, the way a user would, against the test kubeconfig.
import { join } from 'node:path';
import { controlPlaneBinDir } from './controlplane.ts';
import { run, type RunResult } from './run.ts';

export type KubectlResult = RunResult;

export async function kubectl(kubeconfigPath: string, args: string[], stdin?: string): Promise<KubectlResult> {
  return run(join(controlPlaneBinDir(), 'kubectl'), [`--kubeconfig=${kubeconfigPath}`, ...args], stdin === undefined ? {} : { stdin });
}

const CRD_DIR = join(import.meta.dirname, '..', '..', 'crds', 'bases');

/** Installs the generated CRDs (crds/bases) and waits until the API server serves them. */
export async function installCRDs(kubeconfigPath: string): Promise<void> {
  const applied = await kubectl(kubeconfigPath, ['apply', '--server-side', '-f', CRD_DIR]);
  if (applied.code !== 0) throw new Error(`installing the CRDs failed: ${applied.stderr}`);
  const wait = await kubectl(kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  if (wait.code !== 0) throw new Error(`CRDs not Established: ${wait.stderr}`);
}
