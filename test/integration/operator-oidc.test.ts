// SSOProfiles with an OpenID Connect upstream, against the real control plane with the operator
// process and real OpenID Providers (oidc-provider, Google- and Entra-shaped): Ready with
// status.oidc and the redirect URI, the client secret rendered (and nowhere else), a missing
// Secret reported and picked up when created, each bad provider a precise reason while other
// organizations stay rendered, and the last good provider kept when it goes away.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REFRESH_METADATA_ANNOTATION, spConfig, type SSOProfile } from '../../crds/api/index.ts';
import { resourcePath, type KubeClient } from '../../kube/client.ts';
import { freePort } from '../controlplane/controlplane.ts';
import { DnsServer } from '../support/dns-server.ts';
import { condition, create, createNamespace, crPath, deleteNamespace, getProfile, MERGE_PATCH, secretPath, testClient } from '../support/kube.ts';
import { ENTRA_TEST_TENANT, startOIDCUpstream, type OIDCUpstream } from '../support/oidc-upstream.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { verifyDomain } from '../support/organization.ts';
import { waitFor } from '../support/wait.ts';

const kubeconfig = inject('kubeconfig');
const system = 'gh-oidc-system';
const orgA = 'gh-oidc-org-a';
const orgB = 'gh-oidc-org-b';
const SP_URL = 'https://sso.oidc.example';
const GOOGLE_SECRET = 'google-client-secret-7f3a9c1e5b2d4f6a8c0e';
const ENTRA_SECRET = 'entra-client-secret-1b2d3f4a5c6e7a8b9c0d';
const LATE_SECRET = 'late-client-secret-0a9b8c7d6e5f4a3b2c1d';

type Spec = Record<string, unknown>;

describe('SSOProfile with an OpenID Connect upstream', () => {
  let client: KubeClient;
  let dns: DnsServer;
  let op: OperatorProcess;
  let google: OIDCUpstream;
  let entra: OIDCUpstream;
  let fake: Server;
  let fakeOrigin = '';

  const clients = [{ client_id: 'gatehouse', client_secret: GOOGLE_SECRET, redirect_uris: [`${SP_URL}/oidc/${orgA}/google/callback`] }];
  const profileSpec = (oidc: Spec, domains: string[]): Spec => ({ oidc: { clientID: 'gatehouse', clientSecretRef: { name: 'gatehouse-oidc-client', key: 'client-secret' }, ...oidc }, domains });
  const createProfile = (ns: string, name: string, spec: Spec) => create(client, 'ssoprofiles', ns, { kind: 'SSOProfile', metadata: { name }, spec });
  const createSecret = (ns: string, data: Record<string, string>) =>
    client.call('POST', secretPath(ns), { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gatehouse-oidc-client', namespace: ns }, stringData: data } });
  const conditions = async (ns: string, name: string) => JSON.stringify((await getProfile(client, ns, name)).status?.conditions);
  const waitCondition = (ns: string, name: string, type: string, want: (c: ReturnType<typeof condition>) => boolean, timeoutMs = 30_000) =>
    waitFor(`${ns}/${name} ${type}`, async () => {
      const p = await getProfile(client, ns, name);
      return want(condition(p, type)) ? p : undefined;
    }, timeoutMs, () => conditions(ns, name));
  const renderedConfig = async () => {
    const secret = await client.call<{ data?: Record<string, string> }>('GET', secretPath(system, 'gatehouse-sp-config'));
    return spConfig.parse(JSON.parse(Buffer.from(secret.data?.['config.json'] ?? '', 'base64').toString('utf8')));
  };
  const rendered = async (ns: string, name: string) => (await renderedConfig()).organizations.find((o) => o.namespace === ns)?.profiles.find((p) => p.name === name);
  const refresh = (ns: string, name: string, value: string) =>
    client.call('PATCH', crPath('ssoprofiles', ns, name), { body: { metadata: { annotations: { [REFRESH_METADATA_ANNOTATION]: value } } }, contentType: MERGE_PATCH });
  /** Every Event of the namespace, in both APIs, as text. */
  const eventsText = async (ns: string) => {
    const core = await client.call('GET', resourcePath({ group: '', version: 'v1', plural: 'events' }, ns));
    const v1 = await client.call('GET', resourcePath({ group: 'events.k8s.io', version: 'v1', plural: 'events' }, ns));
    return JSON.stringify([core, v1]);
  };

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [system, orgA, orgB]) await createNamespace(client, ns);
    google = await startOIDCUpstream({ shape: 'google', clients });
    entra = await startOIDCUpstream({ shape: 'entra', clients, tenantID: ENTRA_TEST_TENANT });
    // A provider that misbehaves on purpose: /mismatch names another issuer, /nokeys publishes no usable key.
    fake = createServer((req, res) => {
      const [, tenant] = /^\/(\w+)\//.exec(req.url ?? '') ?? [];
      const issuer = `${fakeOrigin}/${tenant}`;
      if (req.url?.endsWith('/.well-known/openid-configuration')) {
        const doc = { issuer: tenant === 'mismatch' ? 'https://accounts.google.com' : issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` };
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
      }
      if (req.url?.endsWith('/jwks')) {
        const keys = [{ kty: 'oct', k: 'c2VjcmV0' }, { kty: 'RSA', n: 'AQAB', e: 'AQAB', d: 'private' }, { kty: 'RSA', n: 'AQAB', e: 'AQAB', use: 'enc' }];
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    fakeOrigin = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    dns = await DnsServer.start();
    // The test providers serve plain http on loopback: this operator allows both.
    op = await OperatorProcess.start({
      kubeconfig,
      namespace: system,
      watchNamespaces: [orgA, orgB],
      spPublicUrl: SP_URL,
      dnsServers: [dns.address],
      args: ['--domain-recheck-interval=300ms', '--metadata-timeout=2s', '--allow-private-metadata-urls', '--allow-insecure-metadata-urls'],
    });
    await createSecret(orgA, { 'client-secret': GOOGLE_SECRET, entra: ENTRA_SECRET });
    await verifyDomain(client, dns, orgA, 'google.oidc.example');
    await verifyDomain(client, dns, orgA, 'entra.oidc.example');
  });

  afterAll(async () => {
    await op?.stop();
    await dns?.stop();
    await google?.close();
    await entra?.close();
    fake?.closeAllConnections();
    fake?.close();
    for (const ns of [system, orgA, orgB]) await deleteNamespace(client, ns);
    await client?.close();
  });

  it('a Google-preset profile reaches Ready with status.oidc and the redirect URI; the secret is rendered and nowhere else', async () => {
    await createProfile(orgA, 'google', profileSpec({ provider: 'Google', issuer: google.issuer }, ['google.oidc.example']));
    const p = await waitCondition(orgA, 'google', 'Ready', (c) => c?.status === 'True');
    expect(condition(p, 'IdPConfigValid')).toMatchObject({ status: 'True', reason: 'Valid' });
    expect(condition(p, 'CertificateValid')).toMatchObject({ status: 'True', reason: 'SigningKeysAvailable', message: expect.stringMatching(/^1 usable signing key/) });
    expect(condition(p, 'ClientSecretReady')).toMatchObject({ status: 'True', reason: 'SecretRead' });
    expect(p.status?.sp).toEqual({ redirectURI: `${SP_URL}/oidc/${orgA}/google/callback` });
    expect(p.status?.idp).toBeUndefined();
    expect(p.status?.oidc).toMatchObject({ issuer: google.issuer, jwksURI: expect.stringContaining(google.origin), signingKeys: [{ kty: 'RSA', alg: 'RS256' }] });
    const r = await waitFor('google rendered', () => rendered(orgA, 'google'), 20_000);
    expect(r.idp).toBeUndefined();
    expect(r.oidc).toMatchObject({ provider: 'Google', issuer: google.issuer, clientID: 'gatehouse', clientSecret: GOOGLE_SECRET, clientAuthentication: 'client_secret_basic', redirectURI: `${SP_URL}/oidc/${orgA}/google/callback` });
    expect(r.oidc?.jwks.keys.length).toBe(1);
    expect(r.sp.key.privateKeyPem).toContain('PRIVATE KEY');
    expect(JSON.stringify(p)).not.toContain(GOOGLE_SECRET);
    expect(await eventsText(orgA)).not.toContain(GOOGLE_SECRET);
    expect(op.process.output()).not.toContain(GOOGLE_SECRET);
  });

  it('a Microsoft-preset profile reaches Ready under its tenant, rendered with the tenant and its own key of the Secret', async () => {
    await createProfile(orgA, 'entra', profileSpec({ provider: 'Microsoft', tenantID: ENTRA_TEST_TENANT.toUpperCase(), issuer: `${entra.origin}/{tenantid}/v2.0`, clientSecretRef: { name: 'gatehouse-oidc-client', key: 'entra' }, claims: { email: 'preferred_username' } }, ['entra.oidc.example']));
    const p = await waitCondition(orgA, 'entra', 'Ready', (c) => c?.status === 'True');
    expect(p.status?.oidc?.issuer).toBe(entra.issuer);
    expect(p.status?.sp?.redirectURI).toBe(`${SP_URL}/oidc/${orgA}/entra/callback`);
    const r = await waitFor('entra rendered', () => rendered(orgA, 'entra'), 20_000);
    expect(r.oidc).toMatchObject({ provider: 'Microsoft', issuer: entra.issuer, tenantID: ENTRA_TEST_TENANT, clientSecret: ENTRA_SECRET, claims: { email: 'preferred_username', displayName: 'name' } });
    expect(JSON.stringify(p)).not.toContain(ENTRA_SECRET);
    expect(await eventsText(orgA)).not.toContain(ENTRA_SECRET);
  });

  it('a missing Secret is ClientSecretReady=False SecretNotFound with the command to fix it; creating it is picked up without touching the profile', async () => {
    await createProfile(orgB, 'late', profileSpec({ provider: 'Google', issuer: google.issuer }, ['late.oidc.example']));
    const missing = await waitCondition(orgB, 'late', 'ClientSecretReady', (c) => c?.reason === 'SecretNotFound');
    expect(condition(missing, 'ClientSecretReady')).toMatchObject({ status: 'False', message: expect.stringContaining(`kubectl -n ${orgB} create secret generic gatehouse-oidc-client --from-literal=client-secret=`) });
    await waitCondition(orgB, 'late', 'ConfigRendered', (c) => c?.reason === 'ClientSecretMissing');
    expect(await rendered(orgB, 'late')).toBeUndefined();
    const generation = missing.metadata.generation;
    await createSecret(orgB, { 'client-secret': LATE_SECRET });
    const read = await waitCondition(orgB, 'late', 'ClientSecretReady', (c) => c?.status === 'True', 20_000);
    expect(read.metadata.generation).toBe(generation);
    const r = await waitFor('late rendered', () => rendered(orgB, 'late'), 20_000);
    expect(r.oidc?.clientSecret).toBe(LATE_SECRET);
    expect(await eventsText(orgB)).toContain('SecretNotFound');
    expect(await eventsText(orgB)).not.toContain(LATE_SECRET);
  });

  it('a discovery document naming another issuer is IdPConfigValid=False IssuerMismatch, and the other organization stays rendered', async () => {
    await createProfile(orgB, 'mismatch', profileSpec({ issuer: `${fakeOrigin}/mismatch` }, ['mismatch.oidc.example']));
    const p = await waitCondition(orgB, 'mismatch', 'IdPConfigValid', (c) => c?.reason === 'IssuerMismatch');
    expect(condition(p, 'IdPConfigValid')).toMatchObject({ status: 'False', message: expect.stringContaining('https://accounts.google.com') });
    expect(condition(p, 'Ready')).toMatchObject({ status: 'False', reason: 'IssuerMismatch' });
    expect(await rendered(orgB, 'mismatch')).toBeUndefined();
    expect((await rendered(orgA, 'google'))?.oidc?.clientSecret).toBe(GOOGLE_SECRET);
  });

  it('an unreachable issuer is IssuerUnreachable', async () => {
    const closed = await freePort();
    await createProfile(orgB, 'unreachable', profileSpec({ issuer: `http://127.0.0.1:${closed}` }, ['unreachable.oidc.example']));
    const p = await waitCondition(orgB, 'unreachable', 'IdPConfigValid', (c) => c?.reason === 'IssuerUnreachable');
    expect(condition(p, 'IdPConfigValid')).toMatchObject({ status: 'False', message: expect.stringContaining(`http://127.0.0.1:${closed}/.well-known/openid-configuration`) });
  });

  it('a JWKS without a usable public signing key is JWKSUnusable', async () => {
    await createProfile(orgB, 'nokeys', profileSpec({ issuer: `${fakeOrigin}/nokeys` }, ['nokeys.oidc.example']));
    const p = await waitCondition(orgB, 'nokeys', 'IdPConfigValid', (c) => c?.reason === 'JWKSUnusable');
    expect(condition(p, 'IdPConfigValid')?.status).toBe('False');
    expect(condition(p, 'CertificateValid')).toMatchObject({ status: 'Unknown' });
  });

  it('keeps the last good provider rendered when it goes away, and says so', async () => {
    const ephemeral = await startOIDCUpstream({ shape: 'google', clients });
    await verifyDomain(client, dns, orgA, 'gone.oidc.example');
    await createProfile(orgA, 'gone', profileSpec({ provider: 'Google', issuer: ephemeral.issuer }, ['gone.oidc.example']));
    await waitCondition(orgA, 'gone', 'Ready', (c) => c?.status === 'True');
    const before = await waitFor('gone rendered', () => rendered(orgA, 'gone'), 20_000);
    await ephemeral.close();
    await refresh(orgA, 'gone', '1');
    const stale = await waitCondition(orgA, 'gone', 'IdPConfigValid', (c) => c?.reason === 'IssuerUnreachable');
    expect(condition(stale, 'IdPConfigValid')).toMatchObject({ status: 'True', message: expect.stringContaining('the last refresh failed') });
    expect(condition(stale, 'Ready')?.status).toBe('True');
    const after = await rendered(orgA, 'gone');
    expect(after?.oidc).toEqual(before.oidc);
  });

  it('the secrets appear in no profile status and no Event, only in the rendered config', async () => {
    expect((await rendered(orgA, 'google'))?.oidc?.clientSecret).toBe(GOOGLE_SECRET);
    const profiles = await client.call<{ items: SSOProfile[] }>('GET', crPath('ssoprofiles', orgA));
    const text = JSON.stringify(profiles) + JSON.stringify(await client.call('GET', crPath('ssoprofiles', orgB))) + (await eventsText(orgA)) + (await eventsText(orgB));
    for (const s of [GOOGLE_SECRET, ENTRA_SECRET, LATE_SECRET]) expect(text).not.toContain(s);
  });
});
