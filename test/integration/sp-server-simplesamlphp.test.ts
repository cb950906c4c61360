// End to end against a real IdP: SimpleSAMLphp (Debian) on loopback, the sp-server process on the
// real API server, openid-client as the application.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SPConfig } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { freePort } from '../controlplane/controlplane.ts';
import { applyConfigSecret, applyManagedUser, createNamespace, deleteNamespaceContents, testClient } from '../support/kube.ts';
import { browserGet, browserPostForm, buildAuthorize, CookieJar, discoverClient, redeem, type AppClient } from '../support/login-driver.ts';
import { testSpKeys } from '../support/saml-fixtures.ts';
import { SimpleSamlPhp } from '../support/simplesamlphp.ts';
import { SpServerProcess } from '../support/sp-server-process.ts';

const kubeconfig = inject('kubeconfig');
const suffix = randomBytes(3).toString('hex');
const ORG = `ssp-acme-${suffix}`;
const OTHER = `ssp-globex-${suffix}`;
const CFG_NS = `ssp-config-${suffix}`;
const STRICT = `ssp-initech-${suffix}`;
const REDIRECT = 'http://127.0.0.1:1/callback';
const INITIATE = 'http://127.0.0.1:1/login/sso';

describe('login through SimpleSAMLphp', () => {
  let k: KubeClient;
  let idp: SimpleSamlPhp;
  let sp: SpServerProcess;
  let app: AppClient;
  let base: string;
  const spEntityID = () => `${base}/saml/${ORG}/simplesamlphp`;
  const acsURL = () => `${spEntityID()}/acs`;

  beforeAll(async () => {
    k = await testClient(kubeconfig);
    for (const ns of [ORG, OTHER, STRICT, CFG_NS]) await createNamespace(k, ns);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await SimpleSamlPhp.start({
      users: [
        { username: 'alice', password: 'alice-pw', email: 'alice@acme.test', groups: ['eng'] },
        { username: 'dave', password: 'dave-pw', email: 'dave@globex.test' },
        { username: 'eve', password: 'eve-pw', email: 'eve@acme.test' },
        { username: 'peter', password: 'peter-pw', email: 'peter@initech.test' },
      ],
      serviceProviders: [
        { entityID: `${base}/saml/${ORG}/simplesamlphp`, acsURL: `${base}/saml/${ORG}/simplesamlphp/acs` },
        {
          entityID: `${base}/saml/${STRICT}/strict`,
          acsURL: `${base}/saml/${STRICT}/strict/acs`,
          certificatePem: testSpKeys().certificatePem,
          validateAuthnRequest: true,
          encryptAssertion: true,
          sharedKeyAlgorithm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
        },
      ],
    });
    const spKeys = testSpKeys();
    const config: SPConfig = {
      formatVersion: 1,
      organizations: [
        {
          namespace: ORG,
          verifiedDomains: ['acme.test'],
          profiles: [
            {
              name: 'simplesamlphp',
              displayName: 'SimpleSAMLphp',
              sp: { entityID: spEntityID(), acsURL: acsURL(), metadataURL: `${spEntityID()}/metadata`, key: { privateKeyPem: spKeys.privateKeyPem, certificatePem: spKeys.certificatePem } },
              idp: { entityID: idp.entityID, ssoURL: idp.ssoURL, certificates: [idp.certificatePem] },
              domains: ['acme.test'],
              nameIDFormat: 'emailAddress' as const,
              signAuthnRequests: false,
              forceAuthn: false,
              signatureAlgorithms: ['rsa-sha256' as const],
              allowedClockSkewSeconds: 90,
              jit: { enabled: false, defaultRoles: [] },
              enforcedDomains: [],
              unmanagedUsers: 'Refuse' as const,
              enforcementExempt: [],
              roleMapping: { attribute: 'groups', rules: [{ value: 'eng', roles: ['developer'] }] },
            },
          ],
        },
        { namespace: OTHER, verifiedDomains: ['globex.test'], profiles: [] },
        {
          // A second IdP connection of an organization with its own domain: signed AuthnRequests, encrypted assertions.
          namespace: STRICT,
          verifiedDomains: ['initech.test'],
          profiles: [
            {
              name: 'strict',
              sp: { entityID: `${base}/saml/${STRICT}/strict`, acsURL: `${base}/saml/${STRICT}/strict/acs`, metadataURL: `${base}/saml/${STRICT}/strict/metadata`, key: { privateKeyPem: spKeys.privateKeyPem, certificatePem: spKeys.certificatePem } },
              idp: { entityID: idp.entityID, ssoURL: idp.ssoURL, certificates: [idp.certificatePem] },
              domains: ['initech.test'],
              nameIDFormat: 'emailAddress' as const,
              signAuthnRequests: true,
              forceAuthn: false,
              signatureAlgorithms: ['rsa-sha256' as const],
              allowedClockSkewSeconds: 90,
              jit: { enabled: true, defaultRoles: ['member'] },
              enforcedDomains: [],
              unmanagedUsers: 'Refuse' as const,
              enforcementExempt: [],
            },
          ],
        },
      ].sort((a, b) => a.namespace.localeCompare(b.namespace)),
    };
    await applyManagedUser(k, ORG, { name: 'alice', email: 'alice@acme.test', roles: ['member'], profile: 'simplesamlphp' });
    await applyManagedUser(k, OTHER, { name: 'dave', email: 'dave@globex.test' });
    await applyConfigSecret(k, CFG_NS, 'gatehouse-sp-config', config);
    sp = await SpServerProcess.start({
      kubeconfig,
      configNamespace: CFG_NS,
      port,
      clients: [{ client_id: 'console', redirect_uris: [REDIRECT], initiate_login_uri: INITIATE, idp_initiated_default: true }],
    });
    app = await discoverClient(base, 'console', REDIRECT);
  });

  afterAll(async () => {
    await sp?.stop();
    await idp?.stop();
    if (k) {
      for (const ns of [ORG, OTHER, STRICT, CFG_NS]) await deleteNamespaceContents(k, ns);
      await k.close();
    }
  });

  it('signs AuthnRequests that SimpleSAMLphp verifies and decrypts its encrypted assertions (JIT user)', async () => {
    const { started, acs, posted, idpURL } = await loginAs('peter', 'peter-pw', 'peter@initech.test', `${base}/saml/${STRICT}/strict/acs`);
    expect(acs.status, await acs.clone().text()).toBe(303);
    const xml = Buffer.from(posted.SAMLResponse, 'base64').toString('utf8');
    expect(xml).toContain('EncryptedAssertion');
    expect(xml).not.toContain('peter@initech.test');
    // The IdP really checks the AuthnRequest signature: without it, it refuses.
    const unsigned = new URL(idpURL);
    expect(unsigned.searchParams.get('Signature')).toBeTruthy();
    unsigned.searchParams.delete('Signature');
    unsigned.searchParams.delete('SigAlg');
    await expect(idp.login(unsigned.toString(), 'peter', 'peter-pw', new CookieJar())).rejects.toThrow(/[Ss]ignature/);
    const { claims } = await redeem(app, acs.headers.get('location') as string, started);
    expect(claims).toMatchObject({ email: 'peter@initech.test', org: STRICT, roles: ['member'] });
  });

  async function loginAs(username: string, password: string, email: string, expectedACS = acsURL()) {
    const jar = new CookieJar();
    const started = await buildAuthorize(app, email);
    const res = await browserGet(started.authorizeURL, jar);
    expect(res.status).toBe(302);
    const location = res.headers.get('location') as string;
    expect(location.startsWith(idp.ssoURL)).toBe(true);
    const posted = await idp.login(location, username, password, jar);
    expect(posted.action).toBe(expectedACS);
    const acs = await browserPostForm(posted.action, { SAMLResponse: posted.SAMLResponse, ...(posted.RelayState ? { RelayState: posted.RelayState } : {}) }, jar);
    return { started, acs, jar, posted, idpURL: location };
  }

  it('a managed user logs in and the application receives a verified ID token with the right email', async () => {
    const { started, acs } = await loginAs('alice', 'alice-pw', 'alice@acme.test');
    expect(acs.status, await acs.clone().text()).toBe(303);
    const { claims } = await redeem(app, acs.headers.get('location') as string, started);
    expect(claims).toMatchObject({ iss: base, aud: 'console', email: 'alice@acme.test', email_verified: true, org: ORG, roles: ['developer', 'member'], nonce: started.nonce });
  });

  it('refuses a user of another organization', async () => {
    // dave's IdP account answers for acme's profile, but globex verified his domain.
    const { acs } = await loginAs('dave', 'dave-pw', 'alice@acme.test');
    expect(acs.status).toBe(403);
    const page = await acs.text();
    expect(page).toContain('USER_OTHER_ORGANIZATION');
    expect(page).not.toContain('dave@globex.test');
  });

  it('refuses an email that is not a ManagedUser', async () => {
    const { acs } = await loginAs('eve', 'eve-pw', 'eve@acme.test');
    expect(acs.status).toBe(403);
    expect(await acs.text()).toContain('USER_NOT_MANAGED');
  });

  it('turns an unsolicited response into a fresh SP-initiated login that then succeeds', async () => {
    const jar = new CookieJar();
    const posted = await idp.login(idp.idpInitiatedURL(spEntityID()), 'alice', 'alice-pw', jar);
    const res = await browserPostForm(posted.action, { SAMLResponse: posted.SAMLResponse }, jar);
    expect(res.status).toBe(303);
    const loc = new URL(res.headers.get('location') as string);
    expect(`${loc.origin}${loc.pathname}`).toBe(INITIATE);
    expect(loc.searchParams.has('code')).toBe(false);
    // The application's login initiation: /authorize without a hint goes back to the same IdP,
    // where the browser still has its session.
    const started = await buildAuthorize(app);
    const auth = await browserGet(started.authorizeURL, jar);
    expect(auth.status).toBe(302);
    const again = await idp.login(auth.headers.get('location') as string, 'alice', 'alice-pw', jar);
    const acs = await browserPostForm(again.action, { SAMLResponse: again.SAMLResponse }, jar);
    expect(acs.status).toBe(303);
    expect((await redeem(app, acs.headers.get('location') as string, started)).claims.email).toBe('alice@acme.test');
    // The unsolicited response itself, posted again, is never a login.
    const replay = await browserPostForm(posted.action, { SAMLResponse: posted.SAMLResponse }, jar);
    expect(replay.headers.get('location') ?? '').not.toContain('code=');
  });
});
