// Leader election: two operator processes, one Lease; only the leader reconciles; when the
// leader dies the other takes over within the lease duration.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resourcePath, type KubeClient } from '../../kube/client.ts';
import { create, createNamespace, deleteNamespace, getDomain, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';
import { OperatorProcess } from '../support/operator-process.ts';

const kubeconfig = inject('kubeconfig');
const system = 'gh-lead-system';
const org = 'gh-lead-org';
const LEASE_MS = 3000;

interface Lease {
  spec?: { holderIdentity?: string; leaseTransitions?: number };
}

describe('leader election', () => {
  let client: KubeClient;
  const ops: OperatorProcess[] = [];

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [system, org]) await createNamespace(client, ns);
  });

  afterAll(async () => {
    for (const op of ops) await op.stop();
    for (const ns of [system, org]) await deleteNamespace(client, ns);
    await client?.close();
  });

  const start = () =>
    OperatorProcess.start({
      kubeconfig,
      namespace: system,
      watchNamespaces: [org],
      args: ['--leader-elect', '--lease-name=gatehouse-test-leader', '--lease-duration=3s', '--renew-deadline=2s', '--retry-period=500ms', '--domain-recheck-interval=1h'],
    });
  const lease = () => client.call<Lease>('GET', resourcePath({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases' }, system, 'gatehouse-test-leader'));
  const reconciles = (op: OperatorProcess) => op.metric('gatehouse_operator_reconcile_total');

  it('lets only the leader write, and fails over within the lease duration after the leader is killed', async () => {
    const a = await start();
    ops.push(a);
    await waitFor('a leads', async () => (await a.metric('gatehouse_operator_leader')) === 1);
    const b = await start();
    ops.push(b);
    await create(client, 'verifieddomains', org, { kind: 'VerifiedDomain', metadata: { name: 'one' }, spec: { domain: 'one.example' } });
    await waitFor('the leader reconciles', async () => (await getDomain(client, org, 'one')).status?.verification?.recordValue);
    // The follower is up, ready and caching, but writes nothing.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await b.metric('gatehouse_operator_leader')).toBe(0);
    expect(await reconciles(b)).toBe(0);
    expect(await b.metric('gatehouse_operator_api_requests_total', { verb: 'apply' })).toBe(0);
    expect((await fetch(`${b.healthURL}/readyz`)).status).toBe(200);
    const holderA = (await lease()).spec?.holderIdentity;
    expect(holderA).toContain(`_${a.pid}_`);

    await a.kill();
    const killedAt = Date.now();
    await waitFor('b leads', async () => (await b.metric('gatehouse_operator_leader')) === 1, 15_000, () => b.logText(10));
    const takeover = Date.now() - killedAt;
    expect(takeover).toBeLessThan(LEASE_MS + 2000);
    expect((await lease()).spec?.holderIdentity).toContain(`_${b.pid}_`);
    await create(client, 'verifieddomains', org, { kind: 'VerifiedDomain', metadata: { name: 'two' }, spec: { domain: 'two.example' } });
    await waitFor('the new leader reconciles', async () => (await getDomain(client, org, 'two')).status?.verification?.recordValue, 10_000);
    expect(await reconciles(b)).toBeGreaterThan(0);

    // A graceful stop hands the lease over at once.
    const c = await start();
    ops.push(c);
    expect(await b.stop()).toBe(0);
    // The lease was handed over, not left to expire: b no longer holds it the moment it is gone,
    // and c takes it well within a lease duration (measured from b's exit, not from the start
    // of its shutdown, which drains workers and can take a while on a loaded machine).
    const stoppedAt = Date.now();
    expect((await lease()).spec?.holderIdentity ?? '').not.toContain(`_${b.pid}_`);
    await waitFor('c leads', async () => (await c.metric('gatehouse_operator_leader')) === 1, 15_000);
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_MS);
  });
});
