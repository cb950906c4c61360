// Who an organization's SSO covers, with the real operator, sp-server and API server: the test
// link expires after the installation's lifetime and the renew annotation issues a new one; once
// a domain is enforced, an address in it that is no ManagedUser is refused a password (unless the
// profile says unmanagedUsers: Allow); another namespace's ManagedUser for an address of a domain
// nobody verified changes nothing.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RENEW_TEST_LINK_ANNOTATION, type SSOProfile } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { freePort } from '../controlplane/controlplane.ts';
import { DnsServer } from '../support/dns-server.ts';
import { create, createNamespace, crPath, deleteNamespace, getProfile, MERGE_PATCH, testClient } from '../support/kube.ts';
import { browserGet, browserPostForm, CookieJar, loginMethodsOf, readAuthnRequest } from '../support/login-driver.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { verifyDomain } from '../support/organization.ts';
import { buildResponse, TEST_IDP_ENTITY_ID, testIdpKeys } from '../support/saml-fixtures.ts';
import { SpServerProcess } from '../support/sp-server-process.ts';
import { waitFor } from '../support/wait.ts';

const kubeconfig = inject('kubeconfig');
const system = 'gh-coverage-system';
const org = 'gh-coverage-org';
const foreign = 'gh-coverage-foreign';
const domain = 'covered.example';
const TESTER = `tester@${domain}`;
/** Long enough to finish a test login, short enough to watch a link expire. */
const TEST_LINK_TTL_S = 10;


describe('enforced-domain coverage and the test link, end to end', () => {
  let client: KubeClient;
  let dns: DnsServer;
  let op: OperatorProcess;
  let sp: SpServerProcess;
  const profilePath = crPath('ssoprofiles', org, 'okta');
  const acs = () => `${sp.url}/saml/${org}/okta/acs`;
  const loginMethods = (email: string) => loginMethodsOf(sp.url, email);
  const openLink = (url: string, jar = new CookieJar()) => browserGet(url, jar);
  const currentLink = async (): Promise<{ url: string; expiresAt: string }> => {
    const t = (await getProfile(client, org, 'okta')).status?.test;
    return { url: t?.url ?? '', expiresAt: t?.expiresAt ?? '' };
  };

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [system, org, foreign]) await createNamespace(client, ns);
    dns = await DnsServer.start();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    op = await OperatorProcess.start({ kubeconfig, namespace: system, watchNamespaces: [org, foreign], spPublicUrl: base, dnsServers: [dns.address], args: [`--test-link-ttl=${TEST_LINK_TTL_S}s`] });
    await verifyDomain(client, dns, org, domain);
    for (const [ns, name, email, active] of [
      [org, 'tester', TESTER, true],
      [org, 'alice', `alice@${domain}`, true],
      // Another namespace lists a stranger's address (a domain nobody verified) and one of the enforced domain, both deactivated.
      [foreign, 'stray', 'stray@stranger.example', false],
      [foreign, 'hal', `hal@${domain}`, false],
    ] as const) {
      await create(client, 'managedusers', ns, { kind: 'ManagedUser', metadata: { name }, spec: { email, active } });
    }
    await create(client, 'ssoprofiles', org, {
      kind: 'SSOProfile',
      metadata: { name: 'okta' },
      spec: {
        domains: [domain],
        idp: { entityID: TEST_IDP_ENTITY_ID, ssoURL: 'https://idp.acme.test/sso', certificates: [testIdpKeys().certificatePem] },
        test: { email: TESTER },
        enforcement: { domains: [domain] },
      },
    });
    sp = await SpServerProcess.start({ kubeconfig, configNamespace: system, port, publicURL: base, jitProvisioning: false, statusIntervalMs: 1000, clients: [{ client_id: 'console', redirect_uris: ['http://127.0.0.1:9/callback'] }] });
  }, 120_000);

  afterAll(async () => {
    await sp?.stop();
    await op?.stop();
    await dns?.stop();
    if (client) for (const ns of [org, foreign, system]) await deleteNamespace(client, ns);
  });

  /** Opens the link once the sp-server serves it and completes the test login as the tester. */
  async function testLogin(url: string): Promise<Response> {
    const jar = new CookieJar();
    const started = await waitFor('the sp-server to serve the test link', async () => {
      const res = await openLink(url, jar);
      return res.status === 302 ? res : undefined;
    }, 15_000);
    const { id } = readAuthnRequest(started.headers.get('location') as string);
    const response = await buildResponse({ inResponseTo: id, destination: acs(), recipient: acs(), audience: `${sp.url}/saml/${org}/okta/metadata`, nameID: TESTER });
    return browserPostForm(acs(), { SAMLResponse: response.base64 }, jar);
  }

  it('issues a test link that expires after --test-link-ttl and is refused with TEST_LINK_EXPIRED', async () => {
    const link = await waitFor('a test link with its expiry in status', async () => ((await currentLink()).expiresAt ? currentLink() : undefined), 30_000);
    const left = Date.parse(link.expiresAt) - Date.now();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(TEST_LINK_TTL_S * 1000 + 1000);
    const tested = await testLogin(link.url);
    expect(tested.status, await tested.clone().text()).toBe(200);
    expect(tested.headers.get('location')).toBeNull();
    await waitFor('the test result in status', async () => ((await getProfile(client, org, 'okta')).status?.test?.result === 'Succeeded' ? true : undefined), 15_000);
    // Opening a valid link is a test attempt (status.test turns Pending): open it only once it has expired.
    await new Promise((resolve) => setTimeout(resolve, Date.parse(link.expiresAt) - Date.now() + 500));
    const refused = await openLink(link.url);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('TEST_LINK_EXPIRED');
    // The expired link changed nothing: the test result stands.
    expect((await getProfile(client, org, 'okta')).status?.test).toMatchObject({ result: 'Succeeded', email: TESTER, url: link.url });
    // The operator came back at the expiry and says how to get a new link.
    await waitFor('the operator to report the expiry', async () => {
      const c = (await getProfile(client, org, 'okta')).status?.conditions?.find((x) => x.type === 'SPKeyReady');
      return c?.message.includes(RENEW_TEST_LINK_ANNOTATION) ? true : undefined;
    }, 15_000);
  });

  it('renews the link when the renew annotation is set, and the old one stops working', async () => {
    const old = await currentLink();
    await client.call<SSOProfile>('PATCH', profilePath, { body: { metadata: { annotations: { [RENEW_TEST_LINK_ANNOTATION]: 'first' } } }, contentType: MERGE_PATCH });
    const renewed = await waitFor('a new test link', async () => {
      const l = await currentLink();
      return l.url && l.url !== old.url ? l : undefined;
    }, 15_000);
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.now());
    const tested = await testLogin(renewed.url);
    expect(tested.status, await tested.clone().text()).toBe(200);
    expect((await openLink(old.url)).status).toBe(404);
  });

  it('refuses a password to an address of the enforced domain that is no ManagedUser, however it is spelled', async () => {
    await waitFor('enforcement to cover the domain', async () => ((await loginMethods(`stranger@${domain}`)).methods.length === 0 ? true : undefined), 30_000, async () =>
      JSON.stringify((await getProfile(client, org, 'okta')).status?.enforcement),
    );
    for (const spelling of [`stranger@${domain}`, `Stranger@${domain.toUpperCase()}.`]) {
      expect(await loginMethods(spelling)).toEqual({ email: `stranger@${domain}`, methods: [] });
    }
    // The foreign namespace's deactivated entry for an address of this domain decides nothing either.
    expect(await loginMethods(`hal@${domain}`)).toEqual({ email: `hal@${domain}`, methods: [] });
  });

  it('lets a foreign namespace\'s deactivated ManagedUser for a stranger\'s address change nothing', async () => {
    const unlisted = await loginMethods('nobody@stranger.example');
    expect(unlisted).toEqual({ email: 'nobody@stranger.example', methods: ['password'] });
    expect(await loginMethods('stray@stranger.example')).toEqual({ ...unlisted, email: 'stray@stranger.example' });
  });

  it('keeps the password of unmanaged addresses with unmanagedUsers: Allow', async () => {
    await client.call('PATCH', profilePath, { body: { spec: { enforcement: { unmanagedUsers: 'Allow' } } }, contentType: MERGE_PATCH });
    const answer = await waitFor('the Allow policy to reach the sp-server', async () => {
      const a = await loginMethods(`stranger@${domain}`);
      return a.methods.includes('password') ? a : undefined;
    }, 30_000);
    expect(answer).toEqual({ email: `stranger@${domain}`, methods: ['password'] });
  });
});
