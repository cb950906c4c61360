// SSOProfile, ManagedUser decisions, enforcement and the rendered SP config, against a real API
// server and DNS server, with the operator as its own process.
import { createHash, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SSOProfile } from '../../crds/api/index.ts';
import { resourcePath, type KubeClient } from '../../kube/client.ts';
import { SP_CONFIG_HASH_ANNOTATION, SP_CONFIG_LABEL, spConfig, type SPConfig } from '../../crds/api/index.ts';
import { kubectl } from '../controlplane/kubectl.ts';
import { DnsServer } from '../support/dns-server.ts';
import { idpKeyPair, metadataXml } from '../support/idp-fixtures.ts';
import { condition, create, createNamespace, crPath, deleteNamespace, getProfile, getUser, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { recordTestResult, verifyDomain } from '../support/organization.ts';

const kubeconfig = inject('kubeconfig');
const system = 'gh-prof-system';
const org = 'gh-prof-acme';
const other = 'gh-prof-globex';
/** An organization whose gatehouse-sp-keys name is taken by a Secret Gatehouse did not create. */
const taken = 'gh-prof-taken';
const SP = 'https://sso.gatehouse.test';

interface Secret {
  metadata: { annotations?: Record<string, string>; labels?: Record<string, string>; ownerReferences?: { uid: string; kind: string }[] };
  data?: Record<string, string>;
}

describe('SSOProfile, ManagedUser and the rendered config', () => {
  let client: KubeClient;
  let dns: DnsServer;
  let op: OperatorProcess;

  const readConfig = async (): Promise<{ config: SPConfig; secret: Secret; json: string }> => {
    const secret = await client.call<Secret>('GET', resourcePath({ group: '', version: 'v1', plural: 'secrets' }, system, 'gatehouse-sp-config'));
    const json = Buffer.from(secret.data?.['config.json'] ?? '', 'base64').toString('utf8');
    return { config: spConfig.parse(JSON.parse(json)), secret, json };
  };
  const profileState = (name: string) => async () => JSON.stringify((await getProfile(client, org, name)).status, null, 1);

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [system, org, other, taken]) await createNamespace(client, ns);
    dns = await DnsServer.start();
    op = await OperatorProcess.start({
      kubeconfig,
      namespace: system,
      watchNamespaces: [org, other, taken],
      dnsServers: [dns.address],
      spPublicUrl: SP,
      args: ['--domain-recheck-interval=300ms', '--domain-recheck-max-interval=1s', '--certificate-expiry-warning=720h'],
    });
    await verifyDomain(client, dns, org, 'acme.com');
    await verifyDomain(client, dns, org, 'acme.io');
    await verifyDomain(client, dns, other, 'globex.com');
  });

  afterAll(async () => {
    await op?.stop();
    await dns?.stop();
    for (const ns of [system, org, other, taken]) await deleteNamespace(client, ns);
    await client?.close();
  });

  it('validates inline metadata, publishes SP endpoints and the test link, keeps the SP key in an owned Secret, renders the config', async () => {
    const idp = idpKeyPair();
    const created = await create<SSOProfile>(client, 'ssoprofiles', org, {
      kind: 'SSOProfile',
      metadata: { name: 'okta' },
      spec: { idp: { metadata: { xml: metadataXml({ certificatePem: idp.certificatePem, entityID: 'http://www.okta.com/exk1' }) } }, domains: ['acme.com'], test: { email: 'Admin@acme.com' } },
    });
    const p = await waitFor('okta Ready', async () => {
      const x = await getProfile(client, org, 'okta');
      return condition(x, 'Ready')?.status === 'True' ? x : undefined;
    }, 20_000, profileState('okta'));
    expect(p.status?.sp).toEqual({ entityID: `${SP}/saml/${org}/okta/metadata`, acsURL: `${SP}/saml/${org}/okta/acs`, metadataURL: `${SP}/saml/${org}/okta/metadata` });
    expect(p.status?.idp?.entityID).toBe('http://www.okta.com/exk1');
    expect(p.status?.idp?.ssoURL).toBe('https://idp.example.com/sso');
    expect(p.status?.idp?.certificates?.[0]?.fingerprintSHA256).toBe(new X509Certificate(idp.certificatePem).fingerprint256);
    expect(condition(p, 'IdPConfigValid')).toMatchObject({ status: 'True', reason: 'Valid' });
    expect(condition(p, 'CertificateValid')).toMatchObject({ status: 'True', reason: 'Valid' });
    expect(condition(p, 'DomainsVerified')).toMatchObject({ status: 'True' });
    expect(condition(p, 'Tested')).toMatchObject({ status: 'False', reason: 'TestPending' });
    expect(p.status?.enforcement?.phase).toBe('NotRequested');
    expect(p.status?.observedGeneration).toBe(p.metadata.generation);
    for (const c of p.status?.conditions ?? []) expect(c.observedGeneration).toBe(p.metadata.generation);
    const url = p.status?.test?.url ?? '';
    expect(url).toMatch(new RegExp(`^${SP}/test/[A-Za-z0-9_-]{32}$`));

    // One Secret per organization, one entry per profile: RBAC narrows the operator to its name.
    const key = await client.call<Secret>('GET', resourcePath({ group: '', version: 'v1', plural: 'secrets' }, org, 'gatehouse-sp-keys'));
    expect(key.metadata.ownerReferences).toContainEqual(expect.objectContaining({ kind: 'SSOProfile', uid: created.metadata.uid }));
    expect(Buffer.from(key.data?.['okta.uid'] ?? '', 'base64').toString()).toBe(created.metadata.uid);
    const spCert = new X509Certificate(Buffer.from(key.data?.['okta.tls.crt'] ?? '', 'base64'));
    expect(spCert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);

    const { config, secret, json } = await waitFor('okta in the rendered config', async () => {
      const r = await readConfig().catch(() => undefined);
      return r?.config.organizations.find((o) => o.namespace === org)?.profiles.some((x) => x.name === 'okta') ? r : undefined;
    });
    expect(secret.metadata.labels?.[SP_CONFIG_LABEL]).toBe('true');
    expect(secret.metadata.annotations?.[SP_CONFIG_HASH_ANNOTATION]).toBe(createHash('sha256').update(json).digest('hex'));
    const acme = config.organizations.find((o) => o.namespace === org);
    expect(acme?.verifiedDomains).toEqual(['acme.com', 'acme.io']);
    const rendered = acme?.profiles[0];
    expect(rendered?.sp.entityID).toBe(`${SP}/saml/${org}/okta/metadata`);
    expect(rendered?.sp.key.certificatePem).toBe(Buffer.from(key.data?.['okta.tls.crt'] ?? '', 'base64').toString());
    expect(rendered?.idp?.entityID).toBe('http://www.okta.com/exk1');
    expect(rendered?.domains).toEqual(['acme.com']);
    // The link expires after the default lifetime (24h), as status.test.expiresAt says.
    const expiresAt = p.status?.test?.expiresAt ?? '';
    expect(Math.abs(Date.parse(expiresAt) - Date.now() - 24 * 3_600_000)).toBeLessThan(120_000);
    expect(rendered?.test).toEqual({ token: url.split('/').pop(), email: 'admin@acme.com', expiresAt });
    expect(config.organizations.map((o) => o.namespace)).toEqual([...config.organizations.map((o) => o.namespace)].sort());

    // What went over the wire, as the API server recorded it: an Apply by our manager on /status.
    const raw = await client.call<{ metadata: { managedFields: { manager: string; operation: string; subresource?: string }[] } }>('GET', crPath('ssoprofiles', org, 'okta'));
    expect(raw.metadata.managedFields).toContainEqual(expect.objectContaining({ manager: 'gatehouse-operator', operation: 'Apply', subresource: 'status' }));
    const wait = await kubectl(kubeconfig, ['wait', '-n', org, '--for=condition=Ready', '--timeout=10s', 'ssoprofile/okta']);
    expect(wait.code, wait.stderr).toBe(0);
  });

  it('leaves an invalid profile out with a condition saying why, without breaking the others', async () => {
    await create(client, 'ssoprofiles', org, {
      kind: 'SSOProfile',
      metadata: { name: 'broken' },
      spec: { idp: { metadata: { xml: metadataXml({ doctype: '<!DOCTYPE x [<!ENTITY e "boom">]>' }) } }, domains: ['acme.io'] },
    });
    const b = await waitFor('broken rejected', async () => {
      const x = await getProfile(client, 'gh-prof-acme', 'broken');
      return condition(x, 'IdPConfigValid')?.status === 'False' ? x : undefined;
    }, 20_000, profileState('broken'));
    expect(condition(b, 'IdPConfigValid')).toMatchObject({ reason: 'MetadataInvalid' });
    expect(condition(b, 'IdPConfigValid')?.message).toContain('DTD');
    expect(condition(b, 'Ready')).toMatchObject({ status: 'False', reason: 'MetadataInvalid' });
    expect(condition(b, 'ConfigRendered')).toMatchObject({ status: 'False' });
    const { config } = await readConfig();
    const names = config.organizations.find((o) => o.namespace === org)?.profiles.map((x) => x.name);
    expect(names).toEqual(['okta']);
  });

  it('never takes over a Secret it did not create', async () => {
    const secrets = resourcePath({ group: '', version: 'v1', plural: 'secrets' }, taken);
    await client.call('POST', secrets, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gatehouse-sp-keys' }, stringData: { mine: 'do not touch' } } });
    await create(client, 'ssoprofiles', taken, {
      kind: 'SSOProfile',
      metadata: { name: 'taken' },
      spec: { idp: { metadata: { xml: metadataXml() } }, domains: ['taken.example'] },
    });
    const t = await waitFor('SPKeyReady False', async () => {
      const x = await getProfile(client, taken, 'taken');
      return condition(x, 'SPKeyReady')?.status === 'False' ? x : undefined;
    }, 20_000, async () => JSON.stringify((await getProfile(client, taken, 'taken')).status, null, 1));
    expect(condition(t, 'SPKeyReady')?.reason).toBe('SecretNameTaken');
    expect(condition(t, 'Ready')).toMatchObject({ status: 'False' });
    const secret = await client.call<Secret>('GET', `${secrets}/gatehouse-sp-keys`);
    expect(Buffer.from(secret.data?.mine ?? '', 'base64').toString()).toBe('do not touch');
    expect(Object.keys(secret.data ?? {})).toEqual(['mine']);
    const { config } = await readConfig();
    expect(config.organizations.find((o) => o.namespace === taken)?.profiles ?? []).toEqual([]);
  });

  it('drops a deleted profile\'s key from the shared Secret, keeping its siblings\'', async () => {
    await create(client, 'ssoprofiles', org, { kind: 'SSOProfile', metadata: { name: 'short-lived' }, spec: { idp: { metadata: { xml: metadataXml() } }, domains: ['acme.io'] } });
    const keys = () => client.call<Secret>('GET', resourcePath({ group: '', version: 'v1', plural: 'secrets' }, org, 'gatehouse-sp-keys'));
    await waitFor('short-lived key stored', async () => (await keys()).data?.['short-lived.tls.key'], 20_000);
    await client.call('DELETE', crPath('ssoprofiles', org, 'short-lived'));
    const after = await waitFor('short-lived key dropped', async () => {
      const s = await keys();
      return s.data?.['short-lived.tls.key'] === undefined ? s : undefined;
    }, 20_000);
    expect(after.data?.['okta.tls.key']).toBeTruthy();
    expect(after.metadata.ownerReferences?.map((o) => o.uid)).not.toContain(undefined);
  });

  it('judges certificates: warns ahead of expiry, fails when all expired', async () => {
    const soon = idpKeyPair(10);
    const expired = idpKeyPair(-2);
    await create(client, 'ssoprofiles', other, {
      kind: 'SSOProfile',
      metadata: { name: 'a-soon' },
      spec: { idp: { entityID: 'https://idp.globex.com', ssoURL: 'https://idp.globex.com/sso', certificates: [soon.certificatePem] }, domains: ['globex.com'] },
    });
    await create(client, 'ssoprofiles', other, {
      kind: 'SSOProfile',
      metadata: { name: 'b-expired' },
      spec: { idp: { entityID: 'https://idp2.globex.com', ssoURL: 'https://idp2.globex.com/sso', certificates: [expired.certificatePem] }, domains: ['globex.com'] },
    });
    const s = await waitFor('soon judged', async () => {
      const x = await getProfile(client, other, 'a-soon');
      return condition(x, 'CertificateValid') ? x : undefined;
    });
    expect(condition(s, 'CertificateValid')).toMatchObject({ status: 'True', reason: 'ExpiringSoon' });
    const e = await waitFor('expired judged', async () => {
      const x = await getProfile(client, other, 'b-expired');
      return condition(x, 'CertificateValid')?.status === 'False' ? x : undefined;
    });
    expect(condition(e, 'CertificateValid')?.reason).toBe('Expired');
    // Two profiles claim globex.com: the older one (then the first by name) keeps it.
    expect(condition(e, 'DomainsVerified')).toMatchObject({ status: 'False', reason: 'DomainClaimed' });
    const { config } = await waitFor('globex rendered', async () => {
      const r = await readConfig();
      return r.config.organizations.some((o) => o.namespace === other && o.profiles.length === 1) ? r : undefined;
    });
    expect(config.organizations.find((o) => o.namespace === other)?.profiles.map((x) => x.name)).toEqual(['a-soon']);
  });

  it('renders the same bytes after a restart and does not rewrite the Secret', async () => {
    const before = await readConfig();
    await op.stop();
    op = await OperatorProcess.start({
      kubeconfig,
      namespace: system,
      watchNamespaces: [org, other, taken],
      dnsServers: [dns.address],
      spPublicUrl: SP,
      args: ['--domain-recheck-interval=300ms', '--domain-recheck-max-interval=1s', '--certificate-expiry-warning=720h'],
    });
    // Once every object was reconciled again (each profile at least once), nothing was rewritten.
    await waitFor('profiles reconciled', async () => (await op.metric('gatehouse_operator_reconcile_total', { kind: 'SSOProfile' })) >= 5 && (await op.metric('gatehouse_operator_reconcile_total', { kind: 'Config' })) >= 1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await op.metric('gatehouse_operator_config_writes_total')).toBe(0);
    const after = await readConfig();
    expect(after.json).toBe(before.json);
    expect(after.secret.metadata.annotations?.[SP_CONFIG_HASH_ANNOTATION]).toBe(before.secret.metadata.annotations?.[SP_CONFIG_HASH_ANNOTATION]);
  });

  it('decides per user and enforces only after the test passed, never on the exempt admin', async () => {
    const users: [string, string, Record<string, unknown>][] = [
      ['admin', 'Admin@acme.com', {}],
      ['alice', 'alice@ACME.com', {}],
      ['carol', 'carol@acme.com', { sso: 'Disabled' }],
      ['dave', 'dave@acme.com', { active: false }],
      ['erin', 'erin@acme.io', { sso: 'Enabled' }],
      ['frank', 'frank@unverified.com', {}],
    ];
    for (const [name, email, extra] of users) await create(client, 'managedusers', org, { kind: 'ManagedUser', metadata: { name }, spec: { email, ...extra } });
    // acme.io is only claimed by the broken profile: no valid profile serves it.
    await waitFor('initial decisions', async () => (await getUser(client, org, 'frank')).status?.sso?.reason === 'DomainNotVerified' && (await getUser(client, org, 'alice')).status?.sso?.reason === 'NotEnforced');
    expect((await getUser(client, org, 'erin')).status?.sso).toMatchObject({ reason: 'NoProfile', available: false, enforced: false });

    await client.call('PATCH', crPath('ssoprofiles', org, 'okta'), {
      contentType: 'application/merge-patch+json',
      body: { spec: { enforcement: { domains: ['acme.com'], exempt: ['admin@acme.com'] } } },
    });
    const blocked = await waitFor('Blocked', async () => {
      const x = await getProfile(client, org, 'okta');
      return x.status?.enforcement?.phase === 'Blocked' ? x : undefined;
    }, 20_000, profileState('okta'));
    expect(blocked.status?.enforcement).toMatchObject({ reason: 'TestNotPassed' });
    expect(condition(blocked, 'Ready')).toMatchObject({ status: 'False', reason: 'EnforcementBlocked' });
    expect((await getUser(client, org, 'alice')).status?.sso?.enforced).toBe(false);

    // A test by someone else does not count.
    await recordTestResult(client, org, 'okta', 'Succeeded', 'alice@acme.com');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await getProfile(client, org, 'okta')).status?.enforcement?.phase).toBe('Blocked');

    await recordTestResult(client, org, 'okta', 'Succeeded', 'ADMIN@acme.com');
    const enforced = await waitFor('Enforced', async () => {
      const x = await getProfile(client, org, 'okta');
      return x.status?.enforcement?.phase === 'Enforced' ? x : undefined;
    }, 20_000, profileState('okta'));
    expect(condition(enforced, 'Tested')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    expect(enforced.status?.enforcement).toMatchObject({ matchedUsers: 4, enforcedUsers: 1 });
    expect(enforced.status?.test).toMatchObject({ result: 'Succeeded', email: 'ADMIN@acme.com', url: expect.stringMatching(/\/test\//) });
    const sso = async (n: string) => (await getUser(client, org, n)).status?.sso;
    expect(await sso('alice')).toMatchObject({ enforced: true, available: true, profile: 'okta', reason: 'DomainEnforced' });
    expect(await sso('admin')).toMatchObject({ enforced: false, reason: 'ExemptAdmin' });
    expect(await sso('carol')).toMatchObject({ enforced: false, available: true, reason: 'OverrideDisabled' });
    expect(await sso('dave')).toMatchObject({ enforced: false, available: false, reason: 'Inactive' });
    expect(condition(await getUser(client, org, 'alice'), 'Ready')).toMatchObject({ status: 'True', reason: 'DomainEnforced' });

    // The sp-server's fields survive the operator's writes: it still owns them.
    const raw = await client.call<{ metadata: { managedFields: { manager: string; fieldsV1?: unknown }[] } }>('GET', crPath('ssoprofiles', org, 'okta'));
    const spFields = JSON.stringify(raw.metadata.managedFields.find((m) => m.manager === 'gatehouse-sp-server')?.fieldsV1);
    expect(spFields).toContain('f:result');
    expect(JSON.stringify(raw.metadata.managedFields.find((m) => m.manager === 'gatehouse-operator' && JSON.stringify(m.fieldsV1).includes('f:url'))?.fieldsV1)).not.toContain('f:result');

    // A user created later in an enforced domain is enforced.
    await create(client, 'managedusers', org, { kind: 'ManagedUser', metadata: { name: 'gina' }, spec: { email: 'gina@acme.com' } });
    await waitFor('gina enforced', async () => (await sso('gina'))?.enforced === true);
    await waitFor('counts updated', async () => (await getProfile(client, org, 'okta')).status?.enforcement?.enforcedUsers === 2, 20_000, profileState('okta'));

    const events = await kubectl(kubeconfig, ['get', 'events', '-n', org, '--field-selector=involvedObject.name=okta', '-o', 'jsonpath={.items[*].reason}']);
    expect(events.stdout).toContain('EnforcementBlocked');
    expect(events.stdout).toContain('EnforcementCompleted');

    // Removing the domain from enforcement un-enforces its users.
    await client.call('PATCH', crPath('ssoprofiles', org, 'okta'), { contentType: 'application/merge-patch+json', body: { spec: { enforcement: null } } });
    await waitFor('alice un-enforced', async () => (await sso('alice'))?.reason === 'NotEnforced' && (await sso('gina'))?.enforced === false, 20_000);
    // The profile's own status follows its users' (status-only changes are recounted after a debounce).
    await waitFor('enforcement phase NotRequested', async () => (await getProfile(client, org, 'okta')).status?.enforcement?.phase === 'NotRequested', 20_000, profileState('okta'));
  });
});
