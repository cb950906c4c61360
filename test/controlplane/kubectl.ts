// Runs the control plane's own kubectl, the way a user would, against the test kubeconfig.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { controlPlaneBinDir } from './controlplane.ts';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function kubectl(kubeconfigPath: string, args: string[], stdin?: string): Promise<KubectlResult> {
  const bin = join(controlPlaneBinDir(), 'kubectl');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [`--kubeconfig=${kubeconfigPath}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}
