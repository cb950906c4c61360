// IdP metadata from a URL: fetched, refreshed with conditional requests, new certificates picked
// up without a restart, the last good copy kept when the IdP fails, private addresses refused.
import { createHash, X509Certificate } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubeClient } from '../../kube/client.ts';
import { DnsServer } from '../support/dns-server.ts';
import { idpKeyPair, metadataXml } from '../support/idp-fixtures.ts';
import { condition, create, createNamespace, deleteNamespace, getProfile, testClient } from '../support/kube.ts';
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
  let failing = false;
  const seen: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [system, org, strictSystem, strictOrg]) await createNamespace(client, ns);
    server = createServer((req, res) => {
      seen.push(req.headers);
      if (failing) return void res.writeHead(503).end('down');
      const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
      if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml', etag }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/metadata`;
    dns = await DnsServer.start();
    const common = { kubeconfig, dnsServers: [dns.address], args: ['--domain-recheck-interval=300ms', '--metadata-timeout=2s'] };
    op = await OperatorProcess.start({ ...common, namespace: system, watchNamespaces: [org], args: [...common.args, '--allow-private-metadata-urls'] });
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
      spec: { idp: { metadata: { url, refreshInterval: '1s' } }, domains: ['url.example'] },
    });
    const fp = (pem: string) => new X509Certificate(pem).fingerprint256;
    const p1 = await waitFor('metadata fetched', async () => {
      const p = await getProfile(client, org, 'remote');
      return condition(p, 'IdPConfigValid')?.status === 'True' ? p : undefined;
    }, 20_000, async () => JSON.stringify((await getProfile(client, org, 'remote')).status?.conditions));
    expect(p1.status?.idp?.entityID).toBe('https://idp.url.example');
    expect(p1.status?.idp?.certificates?.map((c) => c.fingerprintSHA256)).toEqual([fp(first.certificatePem)]);
    expect(p1.status?.idp?.metadataFetchedTime).toBeTruthy();

    // Refreshes are conditional and answered 304 while nothing changes.
    await waitFor('a conditional refresh', async () => seen.some((h) => h['if-none-match']));
    expect(await op.metric('gatehouse_operator_metadata_fetches_total', { result: 'not_modified' })).toBeGreaterThan(0);

    // The IdP rotates its certificate: picked up without a restart.
    const second = idpKeyPair();
    body = metadataXml({ certificatePem: second.certificatePem, entityID: 'https://idp.url.example' });
    await waitFor('new certificate in status', async () => (await getProfile(client, org, 'remote')).status?.idp?.certificates?.[0]?.fingerprintSHA256 === fp(second.certificatePem), 20_000);

    // The IdP goes down: the last good copy stays in use, and the condition says so.
    failing = true;
    const stale = await waitFor('refresh failure reported', async () => {
      const p = await getProfile(client, org, 'remote');
      return condition(p, 'IdPConfigValid')?.message.includes('last refresh failed') ? p : undefined;
    }, 20_000);
    expect(condition(stale, 'IdPConfigValid')?.status).toBe('True');
    expect(stale.status?.idp?.certificates?.[0]?.fingerprintSHA256).toBe(fp(second.certificatePem));
    expect(condition(stale, 'Ready')?.status).toBe('True');
    failing = false;
  });

  it('refuses a loopback metadata URL unless private URLs are allowed', async () => {
    await create(client, 'ssoprofiles', strictOrg, {
      kind: 'SSOProfile',
      metadata: { name: 'ssrf' },
      spec: { idp: { metadata: { url: url.replace('127.0.0.1', 'localhost') } }, domains: ['strict.example'] },
    });
    const p = await waitFor('refused', async () => {
      const x = await getProfile(client, strictOrg, 'ssrf');
      return condition(x, 'IdPConfigValid')?.status === 'False' ? x : undefined;
    }, 20_000);
    expect(condition(p, 'IdPConfigValid')?.reason).toBe('MetadataFetchFailed');
    expect(condition(p, 'IdPConfigValid')?.message).toMatch(/loopback, link-local or private address/);
    expect(await strict.metric('gatehouse_operator_metadata_fetches_total', { result: 'refused' })).toBeGreaterThan(0);
  });
});
