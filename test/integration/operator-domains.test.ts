// VerifiedDomain against a real API server and a real DNS server (dnsmasq on loopback), with the
// operator running as its own process (re-verifying every 2 s, lapsing after 10 s without the
// record). A tenant that writes VerifiedDomain status itself never gets a domain counted. The
// recheck annotation, against a second operator whose schedule is an hour.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RECHECK_ANNOTATION, RECHECK_SPACING_MS, spConfig, type SPConfig, type VerifiedDomain } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { kubectl } from '../controlplane/kubectl.ts';
import { DnsServer } from '../support/dns-server.ts';
import { condition, create, createNamespace, crPath, deleteNamespace, getDomain, getIfExists, secretPath, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';
import { OperatorProcess } from '../support/operator-process.ts';

const kubeconfig = inject('kubeconfig');
const system = 'gh-dom-system';
const orgA = 'gh-dom-a';
const orgB = 'gh-dom-b';
const orgC = 'gh-dom-c';
const tenantC = 'tenant-c-admin';

describe('VerifiedDomain', () => {
  let client: KubeClient;
  let dns: DnsServer;
  let op: OperatorProcess;

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [system, orgA, orgB, orgC]) await createNamespace(client, ns);
    dns = await DnsServer.start();
    op = await OperatorProcess.start({
      kubeconfig,
      namespace: system,
      watchNamespaces: [orgA, orgB, orgC],
      dnsServers: [dns.address],
      args: ['--domain-recheck-interval=300ms', '--domain-recheck-max-interval=1s', '--domain-reverify-interval=2s', '--domain-verification-grace=10s'],
    });
  });

  afterAll(async () => {
    await op?.stop();
    await dns?.stop();
    for (const ns of [system, orgA, orgB, orgC]) await deleteNamespace(client, ns);
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
    expect(condition(conflict, 'Verified')?.message).toContain(`remove every TXT record at _gatehouse-challenge.acme.com except '${token}'`);
    // It stays that way across further checks.
    await new Promise((r) => setTimeout(r, 1500));
    expect(condition(await getDomain(client, orgB, 'acme-com'), 'Verified')?.reason).toBe('Conflict');
    expect(condition(await getDomain(client, orgA, 'acme-com'), 'Verified')?.status).toBe('True');
    const events = await kubectl(kubeconfig, ['get', 'events', '-n', orgB, '-o', 'jsonpath={.items[*].reason}']);
    expect(events.stdout).toContain('Conflict');
  });

  /** The organizations' verified domains as the sp-server gets them (the rendered config). */
  const renderedDomains = async (): Promise<Record<string, string[]>> => {
    const secret = await getIfExists<{ data?: Record<string, string> }>(client, secretPath(system, 'gatehouse-sp-config'));
    const config: SPConfig = spConfig.parse(JSON.parse(Buffer.from(secret?.data?.['config.json'] ?? 'eyJmb3JtYXRWZXJzaW9uIjoxLCJvcmdhbml6YXRpb25zIjpbXX0=', 'base64').toString('utf8')));
    return Object.fromEntries(config.organizations.map((o) => [o.namespace, o.verifiedDomains]));
  };
  const events = async (ns: string) => (await kubectl(kubeconfig, ['get', 'events', '-n', ns, '-o', 'jsonpath={range .items[*]}{.type}/{.reason} {end}'])).stdout;

  it('status written by a tenant never makes a domain count, a forged proof or one copied from another organization', async () => {
    // A tenant admin of organization C: may write VerifiedDomain status in C (as a careless RBAC would allow).
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'domain-status-writer', namespace: orgC }, rules: [{ apiGroups: ['sso.gatehouse.dev'], resources: ['verifieddomains', 'verifieddomains/status'], verbs: ['get', 'list', 'create', 'patch', 'update'] }] };
    const binding = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'domain-status-writer', namespace: orgC }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'domain-status-writer' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: tenantC }] };
    for (const obj of [role, binding]) expect((await kubectl(kubeconfig, ['apply', '-f', '-'], JSON.stringify(obj))).code).toBe(0);
    const tenant = await testClient(kubeconfig, { impersonate: tenantC });
    try {
      await waitFor('the tenant may create VerifiedDomains', () => create(tenant, 'verifieddomains', orgC, { kind: 'VerifiedDomain', metadata: { name: 'forged-example' }, spec: { domain: 'forged.example' } }), 15_000);
      await create(tenant, 'verifieddomains', orgC, { kind: 'VerifiedDomain', metadata: { name: 'acme-com' }, spec: { domain: 'acme.com' } });
      await waitFor('tokens issued in C', async () => (await getDomain(client, orgC, 'forged-example')).status?.verification?.recordValue && (await getDomain(client, orgC, 'acme-com')).status?.verification?.recordValue);
      const a = await getDomain(client, orgA, 'acme-com');
      expect(condition(a, 'Verified')?.status).toBe('True');
      const forge = async (name: string, domain: string, verification: Record<string, unknown>) => {
        const d = await getDomain(tenant, orgC, name);
        const status = {
          observedGeneration: d.metadata.generation,
          conditions: ['Verified', 'Ready'].map((type) => ({ type, status: 'True', reason: 'Verified', message: 'trust me', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: d.metadata.generation })),
          verification: { recordName: `_gatehouse-challenge.${domain}`, recordValue: d.status?.verification?.recordValue, nextCheckTime: '2099-01-01T00:00:00Z', ...verification },
        };
        // The operator's field-manager name, to show it is not what the operator trusts.
        await tenant.apply(crPath('verifieddomains', orgC, name), { apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'VerifiedDomain', metadata: { name, namespace: orgC }, status }, 'gatehouse-operator', { subresource: 'status', force: true });
      };
      // DNS stops answering, so the operator cannot put the status right for a while: what
      // decides is whether the render and the decisions trust status they did not sign.
      dns.pause();
      await forge('forged-example', 'forged.example', { verifiedTime: '2026-01-01T00:00:00Z', confirmedTime: '2026-01-01T00:00:00Z', lapseTime: '2099-01-01T00:00:00Z', proof: 'v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
      // Organization A's genuine proof, copied field for field.
      await forge('acme-com', 'acme.com', { ...a.status?.verification, recordValue: a.status?.verification?.recordValue });
      // For a while (the rendered config follows domain changes within a fraction of a second), C never counts either.
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline) {
        const rendered = await renderedDomains();
        expect(rendered[orgC] ?? []).toEqual([]);
        expect(rendered[orgA]).toContain('acme.com');
        await new Promise((r) => setTimeout(r, 100));
      }
      dns.resume();
      // And the operator puts the status right.
      for (const name of ['forged-example', 'acme-com']) {
        await waitFor(`${name} in C not Verified`, async () => condition(await getDomain(client, orgC, name), 'Verified')?.status === 'False', 20_000, vdStatus(orgC, name));
      }
      expect(condition(await getDomain(client, orgC, 'acme-com'), 'Verified')?.reason).toBe('Conflict');
      expect(condition(await getDomain(client, orgA, 'acme-com'), 'Verified')?.status).toBe('True');
    } finally {
      dns.resume();
      await tenant.close();
    }
  });

  it('a verified domain whose record disappears is lapsing for the grace period, then lapsed', async () => {
    await create(client, 'verifieddomains', orgA, { kind: 'VerifiedDomain', metadata: { name: 'lapse-example' }, spec: { domain: 'lapse.example' } });
    const token = await waitFor('a token', async () => (await getDomain(client, orgA, 'lapse-example')).status?.verification?.recordValue);
    await dns.setTxt('_gatehouse-challenge.lapse.example', [token]);
    await waitFor('lapse.example verified and rendered', async () => (await renderedDomains())[orgA]?.includes('lapse.example'), 20_000, vdStatus(orgA, 'lapse-example'));
    const verified = await getDomain(client, orgA, 'lapse-example');
    expect(verified.status?.verification?.proof).toMatch(/^v1\./);

    await dns.setTxt('_gatehouse-challenge.lapse.example', []);
    const lapsing = await waitFor('VerificationLapsing', async () => {
      const d = await getDomain(client, orgA, 'lapse-example');
      return condition(d, 'VerificationLapsing')?.status === 'True' ? d : undefined;
    }, 20_000, vdStatus(orgA, 'lapse-example'));
    // Still verified during the grace period: users keep SSO.
    expect(condition(lapsing, 'Verified')).toMatchObject({ status: 'True', reason: 'Verified' });
    expect(condition(lapsing, 'VerificationLapsing')?.reason).toBe('RecordNotFound');
    expect((await renderedDomains())[orgA]).toContain('lapse.example');
    expect(lapsing.status?.verification?.lapseTime).toBe(verified.status?.verification?.lapseTime);

    const lapsed = await waitFor('Lapsed', async () => {
      const d = await getDomain(client, orgA, 'lapse-example');
      return condition(d, 'Verified')?.reason === 'Lapsed' ? d : undefined;
    }, 20_000, vdStatus(orgA, 'lapse-example'));
    expect(condition(lapsed, 'Verified')?.status).toBe('False');
    expect(Date.parse(lapsed.status?.conditions?.find((c) => c.type === 'Verified')?.lastTransitionTime ?? '')).toBeGreaterThanOrEqual(Date.parse(verified.status?.verification?.lapseTime as string));
    await waitFor('lapse.example gone from the rendered config', async () => !(await renderedDomains())[orgA]?.includes('lapse.example'), 10_000);
    expect((await renderedDomains())[orgA]).toContain('acme.com');
    const seen = await events(orgA);
    expect(seen).toContain('Warning/VerificationLapsing');
    expect(seen).toContain('Warning/Lapsed');
  });
});

describe('VerifiedDomain recheck annotation', () => {
  const recheckSystem = 'gh-dom-recheck-system';
  const orgR = 'gh-dom-r';
  let client: KubeClient;
  let dns: DnsServer;
  let op: OperatorProcess;

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [recheckSystem, orgR]) await createNamespace(client, ns);
    dns = await DnsServer.start();
    // Only the annotation can explain a look-up within the test's time.
    op = await OperatorProcess.start({ kubeconfig, namespace: recheckSystem, watchNamespaces: [orgR], dnsServers: [dns.address], args: ['--domain-recheck-interval=1h', '--domain-recheck-max-interval=1h'] });
  });

  afterAll(async () => {
    await op?.stop();
    await dns?.stop();
    for (const ns of [recheckSystem, orgR]) await deleteNamespace(client, ns);
    await client?.close();
  });

  const recheck = async (value: string) => {
    const r = await kubectl(kubeconfig, ['annotate', '--overwrite', '-n', orgR, 'verifieddomain/recheck-example', `${RECHECK_ANNOTATION}=${value}`]);
    expect(r.code, r.stderr).toBe(0);
  };
  const status = () => getDomain(client, orgR, 'recheck-example').then((d) => JSON.stringify(d.status));

  it('a record published after the first check is verified within seconds of setting the annotation; fast changes are spaced', async () => {
    await create(client, 'verifieddomains', orgR, { kind: 'VerifiedDomain', metadata: { name: 'recheck-example' }, spec: { domain: 'recheck.example' } });
    const pending = await waitFor('the first check', async () => {
      const d = await getDomain(client, orgR, 'recheck-example');
      return condition(d, 'Verified')?.reason === 'RecordNotFound' ? d : undefined;
    }, 20_000, status);
    await dns.setTxt('_gatehouse-challenge.recheck.example', [pending.status?.verification?.recordValue as string]);
    // Past the spacing, the schedule alone still does not look again.
    const firstCheck = Date.parse(pending.status?.verification?.lastCheckedTime as string);
    await new Promise((r) => setTimeout(r, Math.max(0, firstCheck + RECHECK_SPACING_MS + 1000 - Date.now())));
    expect(condition(await getDomain(client, orgR, 'recheck-example'), 'Verified')?.reason).toBe('RecordNotFound');

    const asked = Date.now();
    await recheck('r1');
    const verified = await waitFor('Verified after the annotation', async () => {
      const d = await getDomain(client, orgR, 'recheck-example');
      return condition(d, 'Verified')?.status === 'True' ? d : undefined;
    }, 5_000, status);
    expect(Date.now() - asked).toBeLessThan(5_000);
    expect(verified.status?.verification?.handledRecheck).toBe('r1');
    await waitFor('a Verified Event', async () => (await kubectl(kubeconfig, ['get', 'events', '-n', orgR, '-o', 'jsonpath={.items[*].reason}'])).stdout.includes('Verified'), 10_000);

    // Two changes right after a look-up: answered by one look-up, no earlier than the spacing allows.
    await recheck('r2');
    await recheck('r3');
    const answered = await waitFor('r3 answered', async () => {
      const d = await getDomain(client, orgR, 'recheck-example');
      return d.status?.verification?.handledRecheck === 'r3' ? d : undefined;
    }, 20_000, status);
    const spacedBy = Date.parse(answered.status?.verification?.lastCheckedTime as string) - Date.parse(verified.status?.verification?.lastCheckedTime as string);
    // lastCheckedTime is in whole seconds.
    expect(spacedBy).toBeGreaterThanOrEqual(RECHECK_SPACING_MS - 1000);
    expect(condition(answered, 'Verified')?.status).toBe('True');
  });
});
