// Who an organization's SSO covers and who it may not touch, on a real listening server:
// addresses of an enforced domain that are not ManagedUsers, addresses of domains nobody (or
// another organization) verified, spellings of an address meant to slip past enforcement, and
// the test link's lifetime and reach.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RenderedProfile, RenderedSAMLProfile } from '../crds/api/index.ts';
import { buildResponse } from '../test/support/saml-fixtures.ts';
import { APP_CLIENT, startTestApp, user, type TestApp } from '../test/support/sp-app.ts';
import { browserGet, browserPostForm, buildAuthorize, CookieJar, discoverClient, fetchLoginMethods, readAuthnRequest, type LoginMethods } from '../test/support/login-driver.ts';
import { canonicalEmail } from './login/address.ts';

const ENFORCED: Partial<RenderedSAMLProfile> = { domains: ['acme.test', 'acme-labs.test'], enforcedDomains: ['acme.test'], enforcementExempt: ['root@acme.test'] };

async function loginMethods(t: TestApp, email: string): Promise<{ status: number; body: LoginMethods }> {
  const res = await fetchLoginMethods(t.base, email);
  return { status: res.status, body: (await res.json()) as LoginMethods };
}

/** What every address gets that SSO neither covers nor offers. */
const STRANGER = (email: string) => ({ email, methods: ['password'] });
/** No way in: what an enforced address the organization does not list gets. */
const NONE = (email: string) => ({ email, methods: [] });
/** No way in for now: the domain's SSO is enforced and out of service. */
const UNAVAILABLE = (email: string) => ({ email, methods: [], ssoUnavailable: true });
const ssoFor = (t: TestApp, email: string) => `${t.base}/authorize?client_id=console&login_hint=${encodeURIComponent(email)}`;

describe('an enforced domain covers every address in it', () => {
  const apps: TestApp[] = [];
  const start = async (profile: Partial<RenderedSAMLProfile>, jitProvisioning = false) => {
    const t = await startTestApp({
      profile: { ...ENFORCED, ...profile },
      jitProvisioning,
      extraOrgs: [{ namespace: 'acme-labs', verifiedDomains: [], profiles: [] }],
      users: [
        user('acme', 'alice@acme.test', { sso: { available: true, enforced: true, profile: 'okta', reason: 'DomainEnforced' } }),
        user('acme', 'frank@acme.test', { sso: { available: true, enforced: false, profile: 'okta', reason: 'OverrideDisabled' } }),
      ],
    });
    apps.push(t);
    return t;
  };
  afterAll(async () => {
    for (const t of apps) await t.close();
  });

  it('refuses an unmanaged address any login when JIT cannot create it, and says no more', async () => {
    const t = await start({});
    expect((await loginMethods(t, 'stranger@acme.test')).body).toEqual(NONE('stranger@acme.test'));
    // The profile enables JIT, the installation does not: still no login.
    const t2 = await start({ jit: { enabled: true, defaultRoles: [] } }, false);
    expect((await loginMethods(t2, 'stranger@acme.test')).body).toEqual(NONE('stranger@acme.test'));
    // The installation enables JIT, the profile does not: no login either.
    const t3 = await start({}, true);
    expect((await loginMethods(t3, 'stranger@acme.test')).body).toEqual(NONE('stranger@acme.test'));
  });

  it('sends an unmanaged address to SSO only when JIT provisioning is on in the profile and the installation', async () => {
    const t = await start({ jit: { enabled: true, defaultRoles: [] } }, true);
    // SSO only, and nothing about the organization or why.
    expect((await loginMethods(t, 'stranger@acme.test')).body).toEqual({ email: 'stranger@acme.test', methods: ['sso'], ssoURL: ssoFor(t, 'stranger@acme.test') });
  });

  it('keeps the password of unmanaged addresses with unmanagedUsers: Allow, of exempt addresses, and on domains not enforced', async () => {
    const allow = await start({ unmanagedUsers: 'Allow' });
    expect((await loginMethods(allow, 'stranger@acme.test')).body).toEqual(STRANGER('stranger@acme.test'));
    const t = await start({});
    // An exempt address looks like any address SSO does not cover: no "exempt", no reason.
    expect((await loginMethods(t, 'Root@acme.test')).body).toEqual(STRANGER('root@acme.test'));
    expect((await loginMethods(t, 'stranger@acme-labs.test')).body).toEqual(STRANGER('stranger@acme-labs.test'));
  });

  it('still answers ManagedUsers from the operator\'s decision', async () => {
    const t = await start({});
    expect((await loginMethods(t, 'alice@acme.test')).body).toEqual({ email: 'alice@acme.test', methods: ['sso'], ssoURL: ssoFor(t, 'alice@acme.test') });
    expect((await loginMethods(t, 'frank@acme.test')).body).toEqual({ email: 'frank@acme.test', methods: ['sso', 'password'], ssoURL: ssoFor(t, 'frank@acme.test') });
  });

  it.each([
    ['upper case', 'Stranger@ACME.TEST'],
    ['a trailing root dot', 'stranger@acme.test.'],
    ['full-width letters', 'stranger@ａｃｍｅ.test'],
    ['an ideographic full stop', 'stranger@acme。test'],
    ['a zero-width space in the domain', 'stranger@acme\u200b.test'],
    ['a compatibility form in the local part', 'ｓtranger@acme.test'],
  ])('answers %s of an enforced address as the address itself', async (_how, spelling) => {
    const t = await start({});
    expect((await loginMethods(t, spelling)).body).toEqual(NONE('stranger@acme.test'));
  });

  it.each([
    ['an invisible character in the local part', 'str\u200banger@acme.test'],
    ['an IP literal', 'stranger@[192.0.2.1]'],
    ['an empty label', 'stranger@acme..test'],
    ['a single-label domain', 'stranger@acme'],
  ])('refuses an address with %s instead of answering it as a stranger\'s', async (_how, spelling) => {
    const t = await start({});
    expect((await loginMethods(t, spelling)).status).toBe(400);
  });

  it('gives every address a canonical form or none', () => {
    expect(canonicalEmail('A.B+tag@Bücher.Test')).toBe('a.b+tag@xn--bcher-kva.test');
    expect(canonicalEmail('@acme.test')).toBeUndefined();
    expect(canonicalEmail('a@')).toBeUndefined();
    expect(canonicalEmail('a@localhost')).toBeUndefined();
  });
});

describe('an enforced domain whose profile is broken', () => {
  it('gives its unmanaged addresses no login, never a password, while the profile is out of the config', async () => {
    const t = await startTestApp({
      profile: { domains: ['other.test'] },
      extraOrgs: [],
      users: [],
    });
    try {
      // The operator left acme's enforcing profile out (its IdP is broken) and listed the latched domain.
      const config = t.config.current;
      const acme = config?.organizations.find((o) => o.namespace === 'acme');
      expect(acme).toBeDefined();
      t.config.apply({
        ...config!,
        organizations: config!.organizations.map((o) =>
          o.namespace === 'acme' ? { ...o, profiles: [], enforcedWithoutProfile: [{ domain: 'acme.test', profile: 'okta', unmanagedUsers: 'Refuse' as const, exempt: ['root@acme.test'] }] } : o,
        ),
      });
      expect((await loginMethods(t, 'stranger@acme.test')).body).toEqual(UNAVAILABLE('stranger@acme.test'));
      expect((await loginMethods(t, 'root@acme.test')).body).toEqual(STRANGER('root@acme.test'));
      // The authorization endpoint says SSO is out of service, not "use another sign-in method".
      const app = await discoverClient(t.base, 'console', APP_CLIENT.redirect_uris[0] as string);
      const page = await browserGet((await buildAuthorize(app, 'stranger@acme.test')).authorizeURL, new CookieJar());
      expect(page.status).toBe(503);
      const text = await page.text();
      expect(text).toContain('temporarily unavailable');
      expect(text).not.toContain('another sign-in method');
    } finally {
      await t.close();
    }
  });
});

describe('an enforced domain whose verification lapsed', () => {
  it('keeps its users enforced and its unmanaged addresses refused, until another organization verifies it', async () => {
    const t = await startTestApp({
      profile: { domains: ['other.test'] },
      users: [user('acme', 'alice@acme.test', { sso: { available: false, enforced: true, profile: 'okta', reason: 'DomainEnforced' } }), user('globex', 'gus@acme.test')],
      extraOrgs: [{ namespace: 'globex', verifiedDomains: [], profiles: [] }],
    });
    try {
      const lapsed = (globexVerified: boolean) => {
        const config = t.config.current!;
        t.config.apply({
          ...config,
          organizations: config.organizations.map((o) =>
            o.namespace === 'acme'
              ? { ...o, verifiedDomains: o.verifiedDomains.filter((d) => d !== 'acme.test'), enforcedWithoutProfile: [{ domain: 'acme.test', profile: 'okta', unmanagedUsers: 'Refuse' as const, exempt: [] }] }
              : { ...o, verifiedDomains: globexVerified ? ['acme.test'] : [] },
          ),
        });
      };
      lapsed(false);
      // The user and a stranger of the domain hear the same: SSO is out of service, no password.
      expect((await loginMethods(t, 'alice@acme.test')).body).toEqual(UNAVAILABLE('alice@acme.test'));
      expect((await loginMethods(t, 'stranger@acme.test')).body).toEqual(UNAVAILABLE('stranger@acme.test'));
      // The domain changed hands: its new owner's users decide, the old latch no longer speaks for it.
      lapsed(true);
      expect((await loginMethods(t, 'gus@acme.test')).body).toEqual(STRANGER('gus@acme.test'));
      expect((await loginMethods(t, 'stranger@acme.test')).body).toEqual(STRANGER('stranger@acme.test'));
    } finally {
      await t.close();
    }
  });
});

describe('no organization decides about another\'s or a stranger\'s address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      profile: { enforcedDomains: ['acme.test'] },
      extraOrgs: [{ namespace: 'globex', verifiedDomains: ['globex.test'], profiles: [] }],
      users: [
        user('acme', 'alice@acme.test'),
        // acme lists addresses of domains it did not verify: a stranger's, and globex's.
        user('acme', 'zed@nobody.test', { active: false }),
        user('acme', 'yan@nobody.test', { sso: { available: true, enforced: true, profile: 'okta', reason: 'DomainEnforced' } }),
        user('acme', 'gil@globex.test', { active: false }),
        user('acme', 'hal@globex.test', { sso: { available: true, enforced: true, profile: 'okta', reason: 'DomainEnforced' } }),
        // globex lists an address of acme's enforced domain.
        user('globex', 'ivy@acme.test', { sso: { available: false, enforced: false, reason: 'DomainNotVerified' } }),
      ],
    });
  });
  afterAll(() => t.close());

  it.each(['zed@nobody.test', 'yan@nobody.test'])('answers %s, of a domain nobody verified, as an unknown user', async (email) => {
    expect((await loginMethods(t, email)).body).toEqual(STRANGER(email));
  });

  it.each(['gil@globex.test', 'hal@globex.test'])('answers %s by the organization that verified the domain, not by the one listing it', async (email) => {
    expect((await loginMethods(t, email)).body).toEqual(STRANGER(email));
  });

  it('lets another organization\'s entry neither exempt nor describe an address of an enforced domain', async () => {
    expect((await loginMethods(t, 'ivy@acme.test')).body).toEqual(NONE('ivy@acme.test'));
  });

  it('refuses at the ACS an address that only another organization lists', async () => {
    const jar = new CookieJar();
    const start = await browserGet(`${t.base}/authorize?${new URLSearchParams({ client_id: 'console', redirect_uri: 'http://127.0.0.1:1/callback', response_type: 'code', scope: 'openid email', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', login_hint: 'ivy@acme.test' })}`, jar);
    expect(start.status).toBe(302);
    const requestID = readAuthnRequest(start.headers.get('location') as string).id;
    const res = await browserPostForm(`${t.base}/saml/acme/okta/acs`, { SAMLResponse: (await responseFor(t, requestID, 'ivy@acme.test')).base64 }, jar);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('USER_NOT_MANAGED');
  });
});

function responseFor(t: TestApp, requestID: string, nameID: string) {
  const acs = `${t.base}/saml/acme/okta/acs`;
  return buildResponse({ inResponseTo: requestID, destination: acs, recipient: acs, audience: `${t.base}/saml/acme/okta`, nameID });
}

describe('the test link', () => {
  const TOKEN = 'k'.repeat(32);
  const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
  const apps: TestApp[] = [];
  const start = async (test: NonNullable<RenderedProfile['test']>, profile: Partial<RenderedSAMLProfile> = {}, jitProvisioning = false) => {
    const t = await startTestApp({ profile: { test, ...profile }, users: [user('acme', 'alice@acme.test')], jitProvisioning });
    apps.push(t);
    return t;
  };
  afterAll(async () => {
    for (const t of apps) await t.close();
  });

  it.each([
    ['past its expiry', new Date(Date.now() - 1000).toISOString()],
    ['rendered without an expiry', undefined],
  ])('is refused with TEST_LINK_EXPIRED when %s, and changes nothing', async (_when, expiresAt) => {
    const t = await start({ token: TOKEN, email: 'alice@acme.test', ...(expiresAt ? { expiresAt } : {}) });
    const res = await browserGet(`${t.base}/test/${TOKEN}`, new CookieJar());
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('TEST_LINK_EXPIRED');
    expect(t.status.tests).toEqual([]);
    expect(t.status.failures).toMatchObject([{ namespace: 'acme', profile: 'okta', code: 'TEST_LINK_EXPIRED' }]);
  });

  it('ends a test login whose link was renewed while it was under way, recording only the failed test', async () => {
    const t = await start({ token: TOKEN, email: 'alice@acme.test', expiresAt: inAnHour() });
    const jar = new CookieJar();
    const res = await browserGet(`${t.base}/test/${TOKEN}`, jar);
    expect(res.status).toBe(302);
    const requestID = readAuthnRequest(res.headers.get('location') as string).id;
    const config = t.config.current;
    const renewed = structuredClone(config!);
    renewed.organizations[0]!.profiles[0]!.test = { token: 'n'.repeat(32), email: 'alice@acme.test', expiresAt: inAnHour() };
    t.config.apply(renewed);
    const acs = await browserPostForm(`${t.base}/saml/acme/okta/acs`, { SAMLResponse: (await responseFor(t, requestID, 'alice@acme.test')).base64 }, jar);
    expect(acs.status).toBe(400);
    expect(await acs.text()).toContain('TEST_LINK_EXPIRED');
    expect(t.status.tests.map((x) => x.test.result)).toEqual(['Pending', 'Failed']);
  });

  it('only records the result: it issues no code and provisions no user, even where JIT would', async () => {
    const t = await start({ token: TOKEN, email: 'newbie@acme.test', expiresAt: inAnHour() }, { jit: { enabled: true, defaultRoles: ['viewer'] } }, true);
    const jar = new CookieJar();
    const res = await browserGet(`${t.base}/test/${TOKEN}`, jar);
    expect(res.status).toBe(302);
    const requestID = readAuthnRequest(res.headers.get('location') as string).id;
    const acs = await browserPostForm(`${t.base}/saml/acme/okta/acs`, { SAMLResponse: (await responseFor(t, requestID, 'newbie@acme.test')).base64 }, jar);
    expect(acs.status).toBe(200);
    expect(acs.headers.get('location')).toBeNull();
    expect(await acs.text()).not.toMatch(/code=/);
    expect(t.users.users.map((u) => u.email)).toEqual(['alice@acme.test']);
    expect(t.status.tests.at(-1)?.test).toMatchObject({ result: 'Succeeded', email: 'newbie@acme.test' });
    expect(t.status.tests.at(-1)?.test.message).toContain('Not a ManagedUser yet');
    // The only cookie is the browser binding the test login started with.
    expect(jar.header().split('; ').map((c) => c.split('=')[0])).toEqual(['gh_browser']);
    expect(acs.headers.getSetCookie()).toEqual([]);
  });
});
