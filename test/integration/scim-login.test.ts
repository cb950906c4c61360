// SCIM and login, end to end with the real processes: the operator renders the organization
// (verified domain over DNS, profile, SCIM token digest), the sp-server serves SCIM and the login
// path. A user provisioned through SCIM signs in; deactivated through SCIM ("active": "False",
// as Entra ID sends it), the same user's SAML login is refused and the login-methods API turns
// both password and SSO off; reactivated, the login works again; deleted, it is gone.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubeClient } from '../../kube/client.ts';
import { SCIM_ENABLED_LABEL, SCIM_TOKEN_SECRET_NAME, tokenOfSecret } from '../../operator/scim-token.ts';
import { DnsServer } from '../support/dns-server.ts';
import { create, createNamespace, deleteNamespace, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';
import { browserGet, browserPostForm, buildAuthorize, CookieJar, discoverClient, loginMethodsOf, readAuthnRequest, redeem, type AppClient } from '../support/login-driver.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { verifyDomain } from '../support/organization.ts';
import { buildResponse, TEST_IDP_ENTITY_ID, testIdpKeys } from '../support/saml-fixtures.ts';
import { SpServerProcess } from '../support/sp-server-process.ts';
import { freePort } from '../controlplane/controlplane.ts';

const kubeconfig = inject('kubeconfig');
const system = 'gh-scimlogin-system';
const org = 'gh-scimlogin-org';
const domain = 'scimlogin.example';
const email = 'Jane.Doe@scimlogin.example';
const REDIRECT = 'http://127.0.0.1:9/callback';

describe('SCIM-provisioned users and the login path', () => {
  let client: KubeClient;
  let dns: DnsServer;
  let op: OperatorProcess;
  let sp: SpServerProcess;
  let app: AppClient;
  let token = '';
  let userID = '';

  const scim = (path: string, init: RequestInit = {}) =>
    fetch(`${sp.url}/scim/v2/${org}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', ...init.headers },
    });
  const loginMethods = () => loginMethodsOf(sp.url, email);
  const ssoOffered = async () => (await loginMethods()).methods.includes('sso');
  const acs = () => `${sp.url}/saml/${org}/okta/acs`;

  /** One SP-initiated login with a response signed by the organization's IdP. */
  async function samlLogin(): Promise<Response & { claims?: Record<string, unknown> }> {
    const jar = new CookieJar();
    const started = await buildAuthorize(app, email);
    const res = await browserGet(started.authorizeURL, jar);
    // A deactivated or unknown user is refused before the IdP is even asked.
    if (res.status !== 302) return res;
    const { id } = readAuthnRequest(res.headers.get('location') as string);
    const response = await buildResponse({ inResponseTo: id, destination: acs(), recipient: acs(), audience: `${sp.url}/saml/${org}/okta/metadata`, nameID: email.toLowerCase() });
    const post = await browserPostForm(acs(), { SAMLResponse: response.base64 }, jar);
    if (post.status === 303) {
      const { claims } = await redeem(app, post.headers.get('location') as string, started);
      expect(claims.email).toBe(email.toLowerCase());
      return Object.assign(post, { claims: { ...claims } });
    }
    return post;
  }

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    await createNamespace(client, system);
    await createNamespace(client, org);
    await client.call('PATCH', `/api/v1/namespaces/${org}`, { body: { metadata: { labels: { [SCIM_ENABLED_LABEL]: 'enabled' } } }, contentType: 'application/merge-patch+json' });
    dns = await DnsServer.start();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    op = await OperatorProcess.start({ kubeconfig, namespace: system, watchNamespaces: [org], spPublicUrl: base, dnsServers: [dns.address] });
    await verifyDomain(client, dns, org, domain);
    await create(client, 'ssoprofiles', org, {
      kind: 'SSOProfile',
      metadata: { name: 'okta' },
      spec: {
        domains: [domain],
        idp: { entityID: TEST_IDP_ENTITY_ID, ssoURL: 'https://idp.acme.test/sso', certificates: [testIdpKeys().certificatePem] },
        roleMapping: { attribute: 'groups', rules: [{ value: 'Finance', roles: ['billing:read'] }] },
      },
    });
    token = await waitFor('the SCIM token Secret', async () => {
      const s = await client.call<{ data?: Record<string, string> }>('GET', `/api/v1/namespaces/${org}/secrets/${SCIM_TOKEN_SECRET_NAME}`).catch(() => undefined);
      return s ? tokenOfSecret(s as Parameters<typeof tokenOfSecret>[0]) : undefined;
    }, 30_000);
    sp = await SpServerProcess.start({ kubeconfig, configNamespace: system, port, publicURL: base, scim: true, jitProvisioning: false, clients: [{ client_id: 'console', redirect_uris: [REDIRECT] }] });
    app = await discoverClient(base, 'console', REDIRECT);
    // The operator renders the organization (profile and token digest) once the domain is verified.
    await waitFor('SCIM answering with the operator-rendered token', async () => ((await scim('/ServiceProviderConfig')).status === 200 ? true : undefined), 30_000);
  }, 120_000);

  afterAll(async () => {
    await sp?.stop();
    await op?.stop();
    await dns?.stop();
    if (client) for (const ns of [org, system]) await deleteNamespace(client, ns);
  });

  it('provisions a user through SCIM who can then sign in with SSO', async () => {
    expect(await ssoOffered()).toBe(false);
    const created = await scim('/Users', {
      method: 'POST',
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: email, active: true, emails: [{ value: email, type: 'work', primary: true }] }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    userID = ((await created.json()) as { id: string }).id;
    await waitFor('the sp-server to see the new user', async () => ((await ssoOffered()) ? true : undefined), 15_000);
    expect((await samlLogin()).status).toBe(303);
  });

  it('a SCIM group the user joins feeds role mapping in the ID token', async () => {
    expect((await samlLogin()).claims?.roles).toEqual([]);
    const group = await scim('/Groups', {
      method: 'POST',
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Finance', members: [{ value: userID }] }),
    });
    expect(group.status, await group.clone().text()).toBe(201);
    expect((await samlLogin()).claims?.roles).toEqual(['billing:read']);
  });

  it('deactivated through SCIM (Entra\'s "False"), the user cannot log in at all', async () => {
    const patched = await scim(`/Users/${userID}`, {
      method: 'PATCH',
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] }),
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    const methods = await waitFor('login-methods to show the deactivation', async () => {
      const m = await loginMethods();
      return m.methods.length === 0 ? m : undefined;
    }, 15_000);
    // No way in, and no word of why.
    expect(methods).toEqual({ email: email.toLowerCase(), methods: [] });
    const refused = await samlLogin();
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/deactivated|USER_INACTIVE/i);
  });

  it('reactivated, the user signs in again; deleted, the user is gone', async () => {
    const patched = await scim(`/Users/${userID}`, {
      method: 'PATCH',
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: true } }] }),
    });
    expect(patched.status).toBe(200);
    await waitFor('login-methods to show the reactivation', async () => ((await ssoOffered()) ? true : undefined), 15_000);
    expect((await samlLogin()).status).toBe(303);

    const deleted = await scim(`/Users/${userID}`, { method: 'DELETE' });
    expect(deleted.status, await deleted.clone().text()).toBe(204);
    await waitFor('the user to disappear from the login path', async () => ((await ssoOffered()) ? undefined : true), 15_000);
    expect((await samlLogin()).status).toBe(403);
  });
});
