// Runs the control plane's own kubectl, the way a user would, against the test kubeconfig.
import { join } from 'node:path';
import { controlPlaneBinDir } from './controlplane.ts';
import { run, type RunResult } from './run.ts';

export type KubectlResult = RunResult;

export async function kubectl(kubeconfigPath: string, args: string[], stdin?: string): Promise<KubectlResult> {
  return run(join(controlPlaneBinDir(), 'kubectl'), [`--kubeconfig=${kubeconfigPath}`, ...args], stdin === undefined ? {} : { stdin });
}
