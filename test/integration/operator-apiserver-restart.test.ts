// The operator's watches survive a kube-apiserver restart: a control plane of its own (the shared
// one must not go away under other tests), the operator running against it, kube-apiserver
// stopped and started again on the same port and etcd. Objects created after the restart are
// reconciled without restarting the operator, and its readiness recovers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../kube/client.ts';
import { ControlPlane } from '../controlplane/controlplane.ts';
import { installCRDs } from '../controlplane/kubectl.ts';
import { create, createNamespace, getDomain, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';
import { OperatorProcess } from '../support/operator-process.ts';

const ns = 'restart-org';

describe('operator across a kube-apiserver restart', () => {
  let cp: ControlPlane;
  let op: OperatorProcess;
  let client: KubeClient;

  const tokenOf = (name: string) =>
    waitFor(`a verification token for ${name}`, async () => (await getDomain(client, ns, name).catch(() => undefined))?.status?.verification?.recordValue, 60_000);

  beforeAll(async () => {
    cp = await ControlPlane.start();
    await installCRDs(cp.kubeconfigPath);
    client = await testClient(cp.kubeconfigPath);
    await createNamespace(client, 'gatehouse-system');
    await createNamespace(client, ns);
    op = await OperatorProcess.start({ kubeconfig: cp.kubeconfigPath, namespace: 'gatehouse-system' });
  }, 120_000);

  afterAll(async () => {
    await op?.stop();
    await cp?.stop();
  });

  it('keeps reconciling objects created after the restart, without being restarted itself', async () => {
    await create(client, 'verifieddomains', ns, { kind: 'VerifiedDomain', metadata: { name: 'before' }, spec: { domain: 'before.example' } });
    expect(await tokenOf('before')).toMatch(/\S{16,}/);

    await cp.restartApiServer();
    client = await testClient(cp.kubeconfigPath);

    await create(client, 'verifieddomains', ns, { kind: 'VerifiedDomain', metadata: { name: 'after' }, spec: { domain: 'after.example' } });
    expect(await tokenOf('after')).toMatch(/\S{16,}/);
    expect(op.running).toBe(true);
    await op.waitReady(60_000);
    const after = await getDomain(client, ns, 'after');
    expect(after.status?.observedGeneration).toBe(after.metadata.generation);
  }, 180_000);
});
