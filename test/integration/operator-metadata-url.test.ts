// IdP metadata from a URL: fetched, refreshed with conditional requests (on schedule, or at once
// through the refresh-metadata annotation), new certificates picked up without a restart, the last
// good copy kept when the IdP fails or serves metadata the profile's signing certificate refuses,
// http:// refused unless the installation allows it, private addresses refused.
import { createHash, X509Certificate } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REFRESH_METADATA_ANNOTATION, spConfig } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { DnsServer } from '../support/dns-server.ts';
import { idpKeyPair, metadataXml, signMetadata } from '../support/idp-fixtures.ts';
import { condition, create, createNamespace, crPath, deleteNamespace, getProfile, MERGE_PATCH, secretPath, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { verifyDomain } from '../support/organization.ts';

const kubeconfig = inject('kubeconfig');
const system = 'gh-url-system';
const org = 'gh-url-org';
const strictSystem = 'gh-url-strict-system';
const strictOrg = 'gh-url-strict-org';

describe('SSOProfile with a metadata URL', () => {
  let client: KubeClient;
  let dns: DnsServer;
  let op: OperatorProcess;
  let strict: OperatorProcess;
  let server: Server;
  let url = '';
  let body = '';
  let signedBody = '';
  let failing = false;
  const seen: IncomingHttpHeaders[] = [];
  const paths: string[] = [];
  const refresh = (ns: string, name: string, value: string) =>
    client.call('PATCH', crPath('ssoprofiles', ns, name), { body: { metadata: { annotations: { [REFRESH_METADATA_ANNOTATION]: value } } }, contentType: MERGE_PATCH });
  /** A profile in the strict operator's organization, once its IdP configuration is refused. */
  const refusedByStrictOperator = async (name: string, metadataURL: string) => {
    await create(client, 'ssoprofiles', strictOrg, { kind: 'SSOProfile', metadata: { name }, spec: { idp: { metadata: { url: metadataURL } }, domains: ['strict.example'] } });
    return waitFor('refused', async () => {
      const x = await getProfile(client, strictOrg, name);
      return condition(x, 'IdPConfigValid')?.status === 'False' ? x : undefined;
    }, 20_000);
  };
  const renderedProfile = async (name: string) => {
    const secret = await client.call<{ data?: Record<string, string> }>('GET', secretPath(system, 'gatehouse-sp-config'));
    const config = spConfig.parse(JSON.parse(Buffer.from(secret.data?.['config.json'] ?? '', 'base64').toString('utf8')));
    return config.organizations.find((o) => o.namespace === org)?.profiles.find((p) => p.name === name);
  };

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [system, org, strictSystem, strictOrg]) await createNamespace(client, ns);
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      const served = req.url === '/signed' ? signedBody : body;
      if (req.url !== '/signed') seen.push(req.headers);
      if (failing && req.url !== '/signed') return void res.writeHead(503).end('down');
      const etag = `"${createHash('sha256').update(served).digest('hex').slice(0, 16)}"`;
      if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml', etag }).end(served);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/metadata`;
    dns = await DnsServer.start();
    const common = { kubeconfig, dnsServers: [dns.address], args: ['--domain-recheck-interval=300ms', '--metadata-timeout=2s'] };
    // The test IdP serves plain http on loopback: this operator allows both, the strict one neither.
    op = await OperatorProcess.start({ ...common, namespace: system, watchNamespaces: [org], args: [...common.args, '--allow-private-metadata-urls', '--allow-insecure-metadata-urls'] });
    strict = await OperatorProcess.start({ ...common, namespace: strictSystem, watchNamespaces: [strictOrg] });
  });

  afterAll(async () => {
    await op?.stop();
    await strict?.stop();
    await dns?.stop();
    server?.closeAllConnections();
    server?.close();
    for (const ns of [system, org, strictSystem, strictOrg]) await deleteNamespace(client, ns);
    await client?.close();
  });

  it('fetches, refreshes conditionally, picks up a new certificate, and keeps the last good copy', async () => {
    const first = idpKeyPair();
    body = metadataXml({ certificatePem: first.certificatePem, entityID: 'https://idp.url.example' });
    await verifyDomain(client, dns, org, 'url.example');
    await create(client, 'ssoprofiles', org, {
      kind: 'SSOProfile',
      metadata: { name: 'remote' },
      spec: { idp: { metadata: { url, refreshInterval: '5m' } }, domains: ['url.example'] },
    });
    const fp = (pem: string) => new X509Certificate(pem).fingerprint256;
    const p1 = await waitFor('metadata fetched', async () => {
      const p = await getProfile(client, org, 'remote');
      return condition(p, 'IdPConfigValid')?.status === 'True' ? p : undefined;
    }, 20_000, async () => JSON.stringify((await getProfile(client, org, 'remote')).status?.conditions));
    expect(p1.status?.idp?.entityID).toBe('https://idp.url.example');
    expect(p1.status?.idp?.certificates?.map((c) => c.fingerprintSHA256)).toEqual([fp(first.certificatePem)]);
    expect(p1.status?.idp?.metadataFetchedTime).toBeTruthy();

    // Refreshes are conditional and answered 304 while nothing changes; the annotation asks for one now.
    await refresh(org, 'remote', '1');
    await waitFor('a conditional refresh', async () => seen.some((h) => h['if-none-match']));
    expect(await op.metric('gatehouse_operator_metadata_fetches_total', { result: 'not_modified' })).toBeGreaterThan(0);

    // The IdP rotates its certificate: picked up without a restart.
    const second = idpKeyPair();
    body = metadataXml({ certificatePem: second.certificatePem, entityID: 'https://idp.url.example' });
    await refresh(org, 'remote', '2');
    await waitFor('new certificate in status', async () => (await getProfile(client, org, 'remote')).status?.idp?.certificates?.[0]?.fingerprintSHA256 === fp(second.certificatePem), 20_000);

    // The IdP goes down: the last good copy stays in use, and the condition says so.
    failing = true;
    await refresh(org, 'remote', '3');
    const stale = await waitFor('refresh failure reported', async () => {
      const p = await getProfile(client, org, 'remote');
      return condition(p, 'IdPConfigValid')?.message.includes('last refresh failed') ? p : undefined;
    }, 20_000);
    expect(condition(stale, 'IdPConfigValid')).toMatchObject({ status: 'True', reason: 'MetadataFetchFailed' });
    expect(stale.status?.idp?.certificates?.[0]?.fingerprintSHA256).toBe(fp(second.certificatePem));
    expect(condition(stale, 'Ready')?.status).toBe('True');
    failing = false;
  });

  it('requires the signature of the pinned certificate, keeping the last signed copy when unsigned metadata appears', async () => {
    const signer = idpKeyPair(3650, 'metadata-signer.url.example');
    const idp = idpKeyPair();
    const good = metadataXml({ id: '_signed', certificatePem: idp.certificatePem, entityID: 'https://idp.signed.example', ssoURL: 'https://idp.signed.example/sso' });
    signedBody = signMetadata(good, signer);
    await verifyDomain(client, dns, org, 'signed.example');
    await create(client, 'ssoprofiles', org, {
      kind: 'SSOProfile',
      metadata: { name: 'signed' },
      spec: { idp: { metadata: { url: url.replace('/metadata', '/signed'), signingCertificate: signer.certificatePem } }, domains: ['signed.example'] },
    });
    const state = async () => JSON.stringify((await getProfile(client, org, 'signed')).status?.conditions);
    await waitFor('signed metadata accepted and the profile Ready', async () => condition(await getProfile(client, org, 'signed'), 'Ready')?.status === 'True', 30_000, state);
    // The rendered config follows after a short debounce.
    const rendered = await waitFor('signed profile rendered', () => renderedProfile('signed'), 20_000);
    expect(rendered.idp?.ssoURL).toBe('https://idp.signed.example/sso');

    // The IdP (or someone on the path) now serves the same document unsigned, pointing elsewhere.
    signedBody = good.replace('https://idp.signed.example/sso', 'https://evil.example/sso');
    await refresh(org, 'signed', '1');
    const refused = await waitFor('unsigned metadata refused', async () => {
      const p = await getProfile(client, org, 'signed');
      return condition(p, 'IdPConfigValid')?.reason === 'MetadataUnsigned' ? p : undefined;
    }, 20_000, state);
    expect(condition(refused, 'IdPConfigValid')).toMatchObject({ status: 'True', message: expect.stringContaining('carries no signature') });
    expect(condition(refused, 'Ready')?.status).toBe('True');
    expect((await renderedProfile('signed'))?.idp?.ssoURL).toBe('https://idp.signed.example/sso');
    expect(await op.metric('gatehouse_operator_metadata_fetches_total', { result: 'rejected' })).toBeGreaterThan(0);

    // Signed by someone else: refused too, with its own reason.
    signedBody = signMetadata(good.replace('https://idp.signed.example/sso', 'https://evil.example/sso'), idpKeyPair(3650, 'evil.example'));
    await refresh(org, 'signed', '2');
    await waitFor('foreign signature refused', async () => condition(await getProfile(client, org, 'signed'), 'IdPConfigValid')?.reason === 'MetadataSignatureInvalid', 20_000, state);
    expect((await renderedProfile('signed'))?.idp?.ssoURL).toBe('https://idp.signed.example/sso');
  });

  it('refuses a plain http:// metadata URL without fetching it unless the installation allows it', async () => {
    const p = await refusedByStrictOperator('plain-http', url.replace('/metadata', '/plain-http'));
    expect(condition(p, 'IdPConfigValid')).toMatchObject({ reason: 'InsecureMetadataURL', message: expect.stringContaining('--allow-insecure-metadata-urls') });
    expect(condition(p, 'Ready')).toMatchObject({ status: 'False', reason: 'InsecureMetadataURL' });
    expect(paths).not.toContain('/plain-http');
  });

  it('refuses a loopback metadata URL unless private URLs are allowed', async () => {
    // https://, so that the address is what is refused (at resolution, before any connection).
    const p = await refusedByStrictOperator('ssrf', url.replace('http://127.0.0.1', 'https://localhost'));
    expect(condition(p, 'IdPConfigValid')?.reason).toBe('MetadataFetchFailed');
    expect(condition(p, 'IdPConfigValid')?.message).toMatch(/loopback, link-local or private address/);
    expect(await strict.metric('gatehouse_operator_metadata_fetches_total', { result: 'refused' })).toBeGreaterThan(0);
  });
});
