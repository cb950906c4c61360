// VerifiedDomain against a real API server and a real DNS server (dnsmasq on loopback), with the
// operator running as its own process.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VerifiedDomain } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { kubectl } from '../controlplane/kubectl.ts';
import { DnsServer } from '../support/dns-server.ts';
import { condition, create, createNamespace, deleteNamespace, getDomain, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';
import { OperatorProcess } from '../support/operator-process.ts';

const kubeconfig = inject('kubeconfig');
const system = 'gh-dom-system';
const orgA = 'gh-dom-a';
const orgB = 'gh-dom-b';

describe('VerifiedDomain', () => {
  let client: KubeClient;
  let dns: DnsServer;
  let op: OperatorProcess;

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [system, orgA, orgB]) await createNamespace(client, ns);
    dns = await DnsServer.start();
    op = await OperatorProcess.start({
      kubeconfig,
      namespace: system,
      watchNamespaces: [orgA, orgB],
      dnsServers: [dns.address],
      args: ['--domain-recheck-interval=300ms', '--domain-recheck-max-interval=1s'],
    });
  });

  afterAll(async () => {
    await op?.stop();
    await dns?.stop();
    for (const ns of [system, orgA, orgB]) await deleteNamespace(client, ns);
    await client?.close();
  });

  const vdStatus = (ns: string, name: string) => () => getDomain(client, ns, name).then((d) => JSON.stringify(d.status));

  it('issues a token, says what DNS shows, and verifies once the TXT record matches', async () => {
    await create(client, 'verifieddomains', orgA, { kind: 'VerifiedDomain', metadata: { name: 'acme-com' }, spec: { domain: 'acme.com' } });
    const pending = await waitFor('a pending verification with a token', async () => {
      const d = await getDomain(client, orgA, 'acme-com');
      return condition(d, 'Verified')?.reason === 'RecordNotFound' ? d : undefined;
    }, 20_000, vdStatus(orgA, 'acme-com'));
    const { recordName, recordValue } = pending.status?.verification ?? {};
    expect(recordName).toBe('_gatehouse-challenge.acme.com');
    expect(recordValue).toMatch(/^gatehouse-domain-verification=[A-Za-z0-9_-]{32}$/);
    expect(condition(pending, 'Verified')?.message).toContain('TXT record not found at _gatehouse-challenge.acme.com');
    expect(condition(pending, 'Ready')?.status).toBe('False');
    expect(pending.status?.observedGeneration).toBe(pending.metadata.generation);

    await dns.setTxt('_gatehouse-challenge.acme.com', ['something-else']);
    const mismatch = await waitFor('a mismatch message', async () => {
      const d = await getDomain(client, orgA, 'acme-com');
      return condition(d, 'Verified')?.reason === 'RecordMismatch' ? d : undefined;
    }, 20_000, vdStatus(orgA, 'acme-com'));
    expect(condition(mismatch, 'Verified')?.message).toContain(`found 'something-else' at _gatehouse-challenge.acme.com, expected '${recordValue}'`);

    await dns.setTxt('_gatehouse-challenge.acme.com', ['something-else', recordValue as string]);
    const verified = await waitFor('Verified', async () => {
      const d = await getDomain(client, orgA, 'acme-com');
      return condition(d, 'Verified')?.status === 'True' ? d : undefined;
    }, 20_000, vdStatus(orgA, 'acme-com'));
    expect(condition(verified, 'Verified')?.reason).toBe('Verified');
    expect(verified.status?.verification?.verifiedTime).toBeTruthy();
    expect(verified.status?.verification?.recordValue).toBe(recordValue);

    // kubectl wait works on the Ready condition.
    const wait = await kubectl(kubeconfig, ['wait', '-n', orgA, '--for=condition=Ready', '--timeout=10s', 'verifieddomain/acme-com']);
    expect(wait.code, wait.stderr).toBe(0);
  });

  it('refuses a domain another organization verified first, even with the TXT record present', async () => {
    await waitFor('acme.com verified in org A', async () => condition(await getDomain(client, orgA, 'acme-com'), 'Verified')?.status === 'True');
    const b = await create<VerifiedDomain>(client, 'verifieddomains', orgB, { kind: 'VerifiedDomain', metadata: { name: 'acme-com' }, spec: { domain: 'acme.com' } });
    expect(b.metadata.name).toBe('acme-com');
    // Publish B's own token too: it must still not verify.
    const token = await waitFor('a token for B', async () => (await getDomain(client, orgB, 'acme-com')).status?.verification?.recordValue);
    const a = await getDomain(client, orgA, 'acme-com');
    await dns.setTxt('_gatehouse-challenge.acme.com', [a.status?.verification?.recordValue as string, token]);
    const conflict = await waitFor('Conflict in B', async () => {
      const d = await getDomain(client, orgB, 'acme-com');
      return condition(d, 'Verified')?.reason === 'Conflict' ? d : undefined;
    }, 20_000, vdStatus(orgB, 'acme-com'));
    expect(condition(conflict, 'Verified')?.status).toBe('False');
    expect(condition(conflict, 'Verified')?.message).toContain('already verified by another organization');
    // It stays that way across further checks.
    await new Promise((r) => setTimeout(r, 1500));
    expect(condition(await getDomain(client, orgB, 'acme-com'), 'Verified')?.reason).toBe('Conflict');
    expect(condition(await getDomain(client, orgA, 'acme-com'), 'Verified')?.status).toBe('True');
    const events = await kubectl(kubeconfig, ['get', 'events', '-n', orgB, '-o', 'jsonpath={.items[*].reason}']);
    expect(events.stdout).toContain('Conflict');
  });
});
