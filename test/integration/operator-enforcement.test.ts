// Enforcement is a resumable reconciliation: kill the operator (SIGKILL) while it is moving a few
// thousand users, change things while it is down, start it again, and the end state is exact.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ManagedUser } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { DnsServer } from '../support/dns-server.ts';
import { metadataXml } from '../support/idp-fixtures.ts';
import { create, createNamespace, crPath, deleteNamespace, getProfile, listUsers, pool, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { recordTestResult, verifyDomain } from '../support/organization.ts';

const kubeconfig = inject('kubeconfig');
const system = 'gh-enf-system';
const org = 'gh-enf-org';
const USERS = 2000;

describe('enforcement across an operator crash', () => {
  let client: KubeClient;
  let dns: DnsServer;
  let op: OperatorProcess | undefined;

  const start = () =>
    OperatorProcess.start({ kubeconfig, namespace: system, watchNamespaces: [org], dnsServers: [dns.address], args: ['--domain-recheck-interval=300ms', '--workers=4'] });

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [system, org]) await createNamespace(client, ns);
    dns = await DnsServer.start();
  });

  afterAll(async () => {
    await op?.stop();
    await dns?.stop();
    for (const ns of [system, org]) await deleteNamespace(client, ns);
    await client?.close();
  });

  it(`converges exactly after SIGKILL in the middle of enforcing ${USERS} users`, { timeout: 240_000 }, async () => {
    op = await start();
    await verifyDomain(client, dns, org, 'big.example');
    await create(client, 'ssoprofiles', org, {
      kind: 'SSOProfile',
      metadata: { name: 'idp' },
      spec: { idp: { metadata: { xml: metadataXml() } }, domains: ['big.example'], test: { email: 'admin@big.example' } },
    });
    await recordTestResult(client, org, 'idp', 'Succeeded', 'admin@big.example');
    const spec = (i: number): Record<string, unknown> => ({
      email: i === 0 ? 'Admin@Big.Example' : `user${i}@big.example`,
      ...(i % 250 === 7 ? { sso: 'Disabled' } : {}),
      ...(i % 333 === 11 ? { active: false } : {}),
    });
    const indexes = Array.from({ length: USERS }, (_, i) => i);
    await pool(indexes, 32, (i) => create(client, 'managedusers', org, { kind: 'ManagedUser', metadata: { name: `u${i}` }, spec: spec(i) }));
    await waitFor('every user decided', async () => (await listUsers(client, org)).every((u) => u.status?.sso?.reason === 'NotEnforced' || u.status?.sso?.reason === 'OverrideDisabled' || u.status?.sso?.reason === 'Inactive'), 120_000);

    await client.call('PATCH', crPath('ssoprofiles', org, 'idp'), {
      contentType: 'application/merge-patch+json',
      body: { spec: { enforcement: { domains: ['big.example'], exempt: ['admin@big.example'] } } },
    });
    // Kill as soon as users start moving.
    await waitFor('enforcement under way', async () => {
      const users = await client.call<{ items: ManagedUser[] }>('GET', crPath('managedusers', org), { query: { limit: 200 } });
      return users.items.some((u) => u.status?.sso?.enforced);
    }, 60_000);
    await op.kill();
    const atKill = (await listUsers(client, org)).filter((u) => u.status?.sso?.enforced).length;

    // While it is down: one user opts out, one new user arrives, one is deprovisioned.
    await client.call('PATCH', crPath('managedusers', org, 'u1'), { contentType: 'application/merge-patch+json', body: { spec: { sso: 'Disabled' } } });
    await client.call('PATCH', crPath('managedusers', org, 'u2'), { contentType: 'application/merge-patch+json', body: { spec: { active: false } } });
    await create(client, 'managedusers', org, { kind: 'ManagedUser', metadata: { name: 'late' }, spec: { email: 'late@big.example' } });

    op = await start();
    const done = await waitFor('Enforced', async () => {
      const p = await getProfile(client, org, 'idp');
      return p.status?.enforcement?.phase === 'Enforced' && p.status.observedGeneration === p.metadata.generation ? p : undefined;
    }, 120_000, async () => JSON.stringify((await getProfile(client, org, 'idp')).status?.enforcement));

    const users = await listUsers(client, org);
    expect(users).toHaveLength(USERS + 1);
    const expected = (u: ManagedUser) => {
      if (u.spec.active === false) return 'Inactive';
      if (u.spec.sso === 'Disabled') return 'OverrideDisabled';
      if (u.spec.email.toLowerCase() === 'admin@big.example') return 'ExemptAdmin';
      return 'DomainEnforced';
    };
    const wrong = users.filter((u) => u.status?.sso?.reason !== expected(u) || u.status.sso.enforced !== (expected(u) === 'DomainEnforced'));
    expect(wrong.map((u) => `${u.metadata.name}: ${JSON.stringify(u.status?.sso)}`)).toEqual([]);
    const shouldEnforce = users.filter((u) => expected(u) === 'DomainEnforced').length;
    expect(done.status?.enforcement).toMatchObject({ matchedUsers: USERS + 1, enforcedUsers: shouldEnforce });
    // The crash really interrupted the work.
    expect(atKill).toBeLessThan(shouldEnforce);
    expect(atKill).toBeGreaterThan(0);
  });
});
