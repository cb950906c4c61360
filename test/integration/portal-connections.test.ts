// The portal's SSO connection screens against a real API server and the operator as its own
// process: connections created from a metadata URL (a local HTTP server), an uploaded file and
// manual entry; bad input refused next to its field with nothing created; the connection page's
// SP values and conditions; and the test flow — spec.test.email and the renew annotation set, the
// fresh link emailed through a real SMTP server, and the result arriving in the live region.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RENEW_TEST_LINK_ANNOTATION, type SSOProfile } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { smtpMailer } from '../../portal/mailer.ts';
import { GITOPS_ANNOTATION } from '../../portal/organization.ts';
import { DnsServer } from '../support/dns-server.ts';
import { idpKeyPair, metadataXml } from '../support/idp-fixtures.ts';
import { condition, createNamespace, crPath, deleteNamespace, getIfExists, getProfile, MERGE_PATCH, testClient } from '../support/kube.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { recordTestResult, verifyDomain } from '../support/organization.ts';
import { signInWithSetupLink, startTestPortal, type PortalClient, type TestPortal } from '../support/portal.ts';
import { MailCatcher } from '../support/smtp-server.ts';
import { waitFor } from '../support/wait.ts';

const kubeconfig = inject('kubeconfig');
const suffix = randomBytes(3).toString('hex');
const system = `pconn-system-${suffix}`;
const org = `pconn-org-${suffix}`;
const gitops = `pconn-gitops-${suffix}`;
const domain = `conn-${suffix}.com`;
const SP = 'https://sso.portal-connections.test';

let kube: KubeClient;
let dns: DnsServer;
let op: OperatorProcess;
let mail: MailCatcher;
let metadataServer: Server;
let metadataURL: string;
/** Allows http:// metadata URLs (the local server) and sends email. */
let portal: TestPortal;
/** As installed by default: https only, no SMTP. */
let strict: TestPortal;
let admin: PortalClient;

const profile = (name: string) => getIfExists<SSOProfile>(kube, crPath('ssoprofiles', org, name));
const fieldError = (body: string, id: string) => new RegExp(`id="${id}-error">([^<]*)<`).exec(body)?.[1];

beforeAll(async () => {
  kube = await testClient(kubeconfig);
  for (const ns of [system, org, gitops]) await createNamespace(kube, ns);
  dns = await DnsServer.start();
  op = await OperatorProcess.start({ kubeconfig, namespace: system, watchNamespaces: [org, gitops], dnsServers: [dns.address], spPublicUrl: SP, args: ['--allow-private-metadata-urls=true', '--allow-insecure-metadata-urls=true', '--domain-recheck-interval=300ms', '--domain-recheck-max-interval=1s'] });
  await verifyDomain(kube, dns, org, domain);
  const xml = metadataXml({ entityID: 'http://www.okta.com/exk-portal' });
  metadataServer = createServer((req, res) => {
    if (req.url === '/metadata.xml') res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(xml);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => metadataServer.listen(0, '127.0.0.1', resolve));
  metadataURL = `http://127.0.0.1:${(metadataServer.address() as AddressInfo).port}/metadata.xml`;
  mail = await MailCatcher.start();
  portal = await startTestPortal({ kube, gatehouseNamespace: system, options: { allowInsecureMetadataURLs: true, spServerURL: SP }, mailer: smtpMailer({ url: mail.url, from: 'gatehouse@portal.test' }) });
  strict = await startTestPortal({ kube, gatehouseNamespace: system, options: { spServerURL: SP } });
  admin = await signInWithSetupLink(portal, org);
}, 90_000);

afterAll(async () => {
  await portal?.close();
  await strict?.close();
  await mail?.stop();
  await new Promise((r) => metadataServer?.close(r));
  await op?.stop();
  await dns?.stop();
  for (const ns of [system, org, gitops]) await deleteNamespace(kube, ns).catch(() => {});
  await kube?.close();
});

describe('creating a connection', () => {
  it('offers the five SAML providers with their steps, the domains and the expected SP values', async () => {
    const page = await admin.get('/connections/new?provider=entra');
    expect(page.status).toBe(200);
    for (const label of ['Okta', 'Microsoft Entra ID', 'Google Workspace', 'ADFS', 'Custom SAML']) expect(page.body).toContain(`> ${label}</label>`);
    expect(page.body).toContain('<legend>Identity provider</legend>');
    expect(page.body).toContain('<legend>IdP configuration</legend>');
    expect(page.body).toContain(`value="${domain}"`);
    expect(page.body).toContain('App Federation Metadata Url');
    expect(page.body).toContain(`${SP}/saml/${org}/entra/acs`);
    expect(page.body).toContain('value="entra"');
  });

  it('creates one from a metadata URL; the operator fetches it and the page shows the SP values to paste', async () => {
    const res = await admin.post('/connections/new', { provider: 'okta', name: 'okta', domains: [domain], source: 'url', metadataURL });
    expect(res.status, res.body.slice(0, 2000)).toBe(303);
    expect(res.location).toBe('/connections/okta');
    const created = await profile('okta');
    expect(created?.spec).toMatchObject({ displayName: 'Okta', domains: [domain], idp: { metadata: { url: metadataURL } } });
    await waitFor('okta IdPConfigValid', async () => condition((await getProfile(kube, org, 'okta')) as never, 'IdPConfigValid')?.status === 'True', 20_000, async () => JSON.stringify((await getProfile(kube, org, 'okta')).status));
    const page = await admin.get('/connections/okta');
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<code id="sp-entity-id">${SP}/saml/${org}/okta/metadata</code>`);
    expect(page.body).toContain(`<code id="sp-acs-url">${SP}/saml/${org}/okta/acs</code>`);
    expect(page.body).toContain(`<code id="sp-metadata-url">${SP}/saml/${org}/okta/metadata</code>`);
    expect(page.body).toContain(`<a href="${SP}/saml/${org}/okta/metadata">Download SP metadata</a>`);
    expect(page.body).toContain('http://www.okta.com/exk-portal');
    expect(page.body).toMatch(/Identity provider configuration<\/dt><dd id="condition-IdPConfigValid"><span class="badge ok">Valid/);
    expect(page.body).toContain('>Test connection</a>');
    const list = await admin.get('/connections');
    expect(list.body).toContain('<a href="/connections/okta">Okta</a>');
    expect(list.body).toContain('>New connection</a>');
    const events = await kube.call<{ items: { reason: string; message: string }[] }>('GET', `/api/v1/namespaces/${org}/events`);
    expect(events.items.find((e) => e.reason === 'ConnectionCreated')?.message).toMatch(/created the SSO connection okta .* in the admin portal/);
  });

  it('creates one from an uploaded metadata file', async () => {
    const xml = metadataXml({ entityID: 'https://accounts.google.com/o/saml2?idpid=C0test' });
    const res = await admin.upload('/connections/new', { provider: 'google', name: 'google', domains: domain, source: 'upload' }, { field: 'metadataFile', name: 'GoogleIDPMetadata.xml', type: 'text/xml', content: xml });
    expect(res.status, res.body.slice(0, 2000)).toBe(303);
    expect((await profile('google'))?.spec.idp?.metadata?.xml).toBe(xml);
  });

  it('creates one from an entity ID, SSO URL and certificate', async () => {
    const cert = idpKeyPair().certificatePem;
    // As a browser sends the form: multipart, with the file field empty.
    const res = await admin.upload('/connections/new', { provider: 'saml', name: 'manual', domains: domain, source: 'manual', entityID: 'https://idp.manual.test', ssoURL: 'https://idp.manual.test/sso', certificate: cert }, { field: 'metadataFile', name: '', type: 'application/octet-stream', content: '' });
    expect(res.status, res.body.slice(0, 2000)).toBe(303);
    expect((await profile('manual'))?.spec.idp).toMatchObject({ entityID: 'https://idp.manual.test', ssoURL: 'https://idp.manual.test/sso', certificates: [cert.trim()] });
    const page = await waitFor('the certificate expiry on the page', async () => {
      const p = await admin.get('/connections/manual');
      return p.body.includes('Signing certificate</th>') && p.body.includes('badge ok">Valid</span> until') ? p : undefined;
    }, 20_000);
    expect(page.body).toContain('SHA-256');
  });

  it('refuses each bad input next to its field, keeps the input and creates nothing', async () => {
    const strictAdmin = await signInWithSetupLink(strict, org);
    const insecure = await strictAdmin.post('/connections/new', { provider: 'okta', name: 'bad-url', domains: [domain], source: 'url', metadataURL: 'http://idp.example.com/metadata' });
    expect(insecure.status).toBe(422);
    expect(fieldError(insecure.body, 'metadataURL')).toContain('https://');
    expect(insecure.body).toContain('value="http://idp.example.com/metadata"');
    expect(insecure.body).toMatch(/id="metadataURL" name="metadataURL" aria-invalid="true"/);

    const notPem = await admin.post('/connections/new', { provider: 'saml', name: 'bad-cert', domains: [domain], source: 'manual', entityID: 'https://idp.bad.test', ssoURL: 'https://idp.bad.test/sso', certificate: 'MIIC-this-is-not-a-certificate' });
    expect(notPem.status).toBe(422);
    expect(fieldError(notPem.body, 'certificate')).toContain('not a PEM certificate');
    expect(notPem.body).toContain('value="https://idp.bad.test"');
    const garbledPem = await admin.post('/connections/new', { provider: 'saml', name: 'bad-cert', domains: [domain], source: 'manual', entityID: 'https://idp.bad.test', ssoURL: 'https://idp.bad.test/sso', certificate: '-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----' });
    expect(fieldError(garbledPem.body, 'certificate')).toContain('not a PEM certificate');

    const malformed = await admin.upload('/connections/new', { provider: 'google', name: 'bad-xml', domains: domain, source: 'upload' }, { field: 'metadataFile', name: 'metadata.xml', type: 'text/xml', content: '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"><unclosed>' });
    expect(malformed.status).toBe(422);
    expect(fieldError(malformed.body, 'metadataFile')).toContain('cannot be used');

    const large = await admin.upload('/connections/new', { provider: 'google', name: 'bad-size', domains: domain, source: 'upload' }, { field: 'metadataFile', name: 'metadata.xml', type: 'text/xml', content: metadataXml().replace('<md:IDPSSODescriptor', `<!-- ${'x'.repeat(300_000)} --><md:IDPSSODescriptor`) });
    expect(large.status).toBe(422);
    expect(fieldError(large.body, 'metadataFile')).toContain('too large');

    const noDomain = await admin.post('/connections/new', { provider: 'okta', name: 'bad-domain', source: 'url', metadataURL });
    expect(fieldError(noDomain.body, 'domains')).toContain('at least one domain');
    const taken = await admin.post('/connections/new', { provider: 'okta', name: 'okta', domains: [domain], source: 'url', metadataURL: 'https://other.example.com/metadata' });
    expect(fieldError(taken.body, 'name')).toContain('exists already');
    expect((await profile('okta'))?.spec.idp?.metadata?.url).toBe(metadataURL);

    for (const name of ['bad-url', 'bad-cert', 'bad-xml', 'bad-size', 'bad-domain']) expect(await profile(name)).toBeUndefined();
  });

  it('shows the operator\'s verdict on metadata it cannot use in plain words', async () => {
    const res = await admin.post('/connections/new', { provider: 'adfs', name: 'adfs', domains: [domain], source: 'url', metadataURL: metadataURL.replace('metadata.xml', 'missing.xml') });
    expect(res.status).toBe(303);
    const page = await waitFor('the fetch failure on the page', async () => {
      const p = await admin.get('/connections/adfs');
      return p.body.includes('could not fetch the metadata URL') ? p : undefined;
    }, 20_000);
    expect(page.body).toMatch(/id="condition-IdPConfigValid"><span class="badge bad">Not usable/);
  });

  it('writes nothing in a GitOps-managed organization', async () => {
    await kube.call('PATCH', `/api/v1/namespaces/${gitops}`, { body: { metadata: { annotations: { [GITOPS_ANNOTATION]: 'true' } } }, contentType: MERGE_PATCH });
    const reader = await signInWithSetupLink(portal, gitops);
    const page = await reader.get('/connections');
    expect(page.body).not.toContain('>New connection</a>');
    const refused = await reader.post('/connections/new', { provider: 'saml', name: 'manual', domains: [domain], source: 'manual', entityID: 'https://idp.manual.test', ssoURL: 'https://idp.manual.test/sso', certificate: idpKeyPair().certificatePem });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(await getIfExists(kube, crPath('ssoprofiles', gitops, 'manual'))).toBeUndefined();
  });
});

describe('testing a connection', () => {
  it('refuses a test user outside the connection\'s domains and changes nothing', async () => {
    const res = await admin.post('/connections/okta/test', { email: 'someone@elsewhere.example', sendEmail: 'on' });
    expect(res.status).toBe(422);
    expect(fieldError(res.body, 'email')).toContain(domain);
    expect((await profile('okta'))?.spec.test).toBeUndefined();
  });

  it('sets the test user and renews the link, emails the fresh link, and shows the result arriving', async () => {
    const before = await getProfile(kube, org, 'okta');
    const page = await admin.get('/connections/okta/test');
    expect(page.body).toContain('Email the test link to the test user');
    const tester = `tester@${domain}`;
    const res = await admin.post('/connections/okta/test', { email: tester, sendEmail: 'on' });
    expect(res.status, res.body.slice(0, 2000)).toBe(303);
    const after = await getProfile(kube, org, 'okta');
    expect(after.spec.test?.email).toBe(tester);
    expect(after.metadata.annotations?.[RENEW_TEST_LINK_ANNOTATION]).toBeTruthy();
    // What the portal applied before stays: an apply of the test user alone would remove it.
    expect(after.spec.idp).toEqual(before.spec.idp);
    expect(after.spec.domains).toEqual([domain]);

    const issued = await waitFor('the test link', async () => (await getProfile(kube, org, 'okta')).status?.test?.url, 20_000);
    const message = await mail.waitFor(tester);
    expect(message.subject).toContain('Test the single sign-on connection');
    expect(message.decoded).toContain(issued);
    expect(message.decoded).toMatch(new RegExp(`An administrator of ${org} \\(setup link [0-9a-f]{16} \\(minted by tests\\)\\) asked you to test`));
    expect(message.decoded).toContain('works until');

    const live = await waitFor('the link in the live state', async () => {
      const r = await admin.get('/connections/okta/test.json', 'application/json');
      const doc = JSON.parse(r.body) as { url: string | null; result: { text: string }; mail: { text: string }; done: boolean };
      return doc.url && doc.mail.text.includes('was emailed') ? doc : undefined;
    }, 20_000);
    expect(live).toMatchObject({ url: issued, result: { text: 'Waiting for the test' }, done: false });
    const rendered = await admin.get('/connections/okta/test');
    expect(rendered.body).toContain(`<a data-href-field="url" href="${issued}">Open the test link</a>`);

    await recordTestResult(kube, org, 'okta', 'Failed', tester, { errorCode: 'AUDIENCE_MISMATCH', message: 'the assertion is for another audience' });
    const failed = JSON.parse((await admin.get('/connections/okta/test.json', 'application/json')).body) as { result: { text: string; advice: string }; done: boolean };
    expect(failed.result.text).toBe('Failed: the assertion is for another audience (AUDIENCE_MISMATCH)');
    expect(failed.done).toBe(true);
    await recordTestResult(kube, org, 'okta', 'Succeeded', tester);
    const passed = JSON.parse((await admin.get('/connections/okta/test.json', 'application/json')).body) as { result: { text: string }; done: boolean };
    expect(passed).toMatchObject({ result: { text: 'Succeeded' }, done: true });
    const events = await kube.call<{ items: { reason: string; message: string }[] }>('GET', `/api/v1/namespaces/${org}/events`);
    expect(events.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['TestStarted', 'TestLinkEmailed']));
  });

  it('limits how often a test can be started (each may send an email)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await admin.post('/connections/manual/test', { email: 'not-an-address', sendEmail: 'on' })).status);
    expect(statuses).toContain(429);
    expect((await profile('manual'))?.spec.test).toBeUndefined();
  });

  it('without SMTP offers no email and says why', async () => {
    const strictAdmin = await signInWithSetupLink(strict, org);
    const page = await strictAdmin.get('/connections/okta/test');
    expect(page.body).not.toContain('Email the test link to the test user');
    expect(page.body).toContain('SMTP is not configured');
  });
});

describe('editing a connection', () => {
  it('replaces the IdP configuration, keeps the rest the portal set, and refuses an edit of a changed spec', async () => {
    const page = await admin.get('/connections/okta/edit');
    expect(page.status).toBe(200);
    expect(page.body).toContain(`value="${metadataURL}"`);
    const generation = /name="generation" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    // The operator's status writes meanwhile are not edits: only a changed spec is a conflict.
    await recordTestResult(kube, org, 'okta', 'Succeeded', `tester@${domain}`);
    const cert = idpKeyPair().certificatePem;
    const saved = await admin.post('/connections/okta/edit', { generation, provider: 'okta', domains: [domain], source: 'manual', entityID: 'http://www.okta.com/exk-new', ssoURL: 'https://okta.example.com/sso', certificate: cert });
    expect(saved.status, saved.body.slice(0, 2000)).toBe(303);
    const after = await getProfile(kube, org, 'okta');
    expect(after.spec.idp).toEqual({ entityID: 'http://www.okta.com/exk-new', ssoURL: 'https://okta.example.com/sso', certificates: [cert.trim()] });
    expect(after.spec.test?.email).toBe(`tester@${domain}`);
    const stale = await admin.post('/connections/okta/edit', { generation, provider: 'okta', domains: [domain], source: 'url', metadataURL });
    expect(stale.status).toBe(409);
    expect(stale.body).toContain('changed by someone else');
    expect(stale.body).toContain('value="http://www.okta.com/exk-new"');
    expect((await getProfile(kube, org, 'okta')).spec.idp?.entityID).toBe('http://www.okta.com/exk-new');
    const events = await kube.call<{ items: { reason: string }[] }>('GET', `/api/v1/namespaces/${org}/events`);
    expect(events.items.map((e) => e.reason)).toContain('ConnectionChanged');
  });
});
