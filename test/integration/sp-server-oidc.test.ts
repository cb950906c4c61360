// The sp-server process with OIDC profiles from a config file, signing users in at real OpenID
// Providers (oidc-provider shaped like Google Workspace and like Entra ID) over HTTP, with
// openid-client playing the application.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SPConfig } from '../../crds/api/index.ts';
import { freePort } from '../controlplane/controlplane.ts';
import { browserGet, buildAuthorize, CookieJar, discoverClient, redeem, type AppClient } from '../support/login-driver.ts';
import { testOIDCProfile, UPSTREAM_CLIENT_ID, UPSTREAM_CLIENT_SECRET, upstreamRedirectURI } from '../support/oidc-fixtures.ts';
import { ENTRA_TEST_TENANT, loginAtUpstream, startOIDCUpstream, type OIDCUpstream } from '../support/oidc-upstream.ts';
import { SpServerProcess } from '../support/sp-server-process.ts';
import { waitFor } from '../support/wait.ts';

const REDIRECT = 'http://127.0.0.1:1/callback';
const managedUser = (namespace: string, name: string, email: string, roles: string[]) => ({
  apiVersion: 'sso.gatehouse.dev/v1alpha1',
  kind: 'ManagedUser',
  metadata: { name, namespace, uid: `uid-${name}` },
  spec: { email, active: true, roles },
});

describe('the sp-server process with OIDC profiles', () => {
  let google: OIDCUpstream;
  let entra: OIDCUpstream;
  let sp: SpServerProcess;
  let app: AppClient;
  let dir: string;

  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const client = (name: string, namespace: string) => ({ client_id: UPSTREAM_CLIENT_ID, client_secret: UPSTREAM_CLIENT_SECRET, redirect_uris: [upstreamRedirectURI(base, name, namespace)] });
    google = await startOIDCUpstream({ shape: 'google', clients: [client('google', 'acme')] });
    google.accounts.set('alice@acme.test', { email: 'alice@acme.test', groups: ['sso-admins'] });
    google.accounts.set('mallory@acme.test', { email: 'mallory@acme.test', hd: null });
    entra = await startOIDCUpstream({ shape: 'entra', clients: [client('entra', 'globex')] });
    entra.accounts.set('bob@globex.test', { email: 'bob@globex.test' });
    const roleMapping = { attribute: 'groups', rules: [{ value: 'sso-admins', roles: ['admin'] }] };
    const googleProfile = await testOIDCProfile({ name: 'google', provider: 'Google', base, upstream: google, profile: { roleMapping } });
    const entraProfile = await testOIDCProfile({ name: 'entra', provider: 'Microsoft', base, upstream: entra, oidc: { tenantID: ENTRA_TEST_TENANT, redirectURI: upstreamRedirectURI(base, 'entra', 'globex') }, profile: { domains: ['globex.test'] } });
    const config: SPConfig = {
      formatVersion: 1,
      organizations: [
        { namespace: 'acme', verifiedDomains: ['acme.test'], profiles: [googleProfile] },
        { namespace: 'globex', verifiedDomains: ['globex.test'], profiles: [entraProfile] },
      ],
    };
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-oidc-test-'));
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config));
    sp = await SpServerProcess.start({
      port,
      configFile,
      clients: [{ client_id: 'console', redirect_uris: [REDIRECT] }],
      users: [managedUser('acme', 'alice', 'alice@acme.test', ['member']), managedUser('acme', 'mallory', 'mallory@acme.test', ['member']), managedUser('globex', 'bob', 'bob@globex.test', ['viewer'])],
    });
    app = await discoverClient(sp.url, 'console', REDIRECT);
  });

  afterAll(async () => {
    await sp?.stop();
    await google?.close();
    await entra?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(email: string) {
    const jar = new CookieJar();
    const started = await buildAuthorize(app, email);
    const start = await browserGet(started.authorizeURL, jar);
    expect(start.status, await start.clone().text()).toBe(302);
    const callback = await loginAtUpstream(start.headers.get('location') as string, email, new CookieJar());
    return { started, res: await browserGet(callback, jar) };
  }

  it('signs a Google Workspace user in, with roles from the groups claim', async () => {
    const { started, res } = await signIn('alice@acme.test');
    expect(res.status, await res.clone().text()).toBe(303);
    const { claims } = await redeem(app, res.headers.get('location') as string, started);
    expect(claims).toMatchObject({ email: 'alice@acme.test', org: 'acme', roles: ['admin', 'member'] });
  });

  it('signs an Entra user of the configured tenant in', async () => {
    const { started, res } = await signIn('bob@globex.test');
    expect(res.status, await res.clone().text()).toBe(303);
    const { claims } = await redeem(app, res.headers.get('location') as string, started);
    expect(claims).toMatchObject({ email: 'bob@globex.test', org: 'globex', roles: ['viewer'] });
  });

  it('refuses a personal Google account, and logs and counts the refusal with its code', async () => {
    const { res } = await signIn('mallory@acme.test');
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('HOSTED_DOMAIN_MISMATCH');
    // The log reaches the test through the process's stdout, a moment later.
    const logged = await waitFor('the refusal\'s log line', async () => sp.logLines().find((l) => l.code === 'HOSTED_DOMAIN_MISMATCH'), 10_000);
    expect(logged).toMatchObject({ msg: 'OIDC login refused', profile: 'acme/google', hint: expect.stringContaining('personal Google account') });
    expect(await sp.metrics()).toMatch(/gatehouse_saml_rejections_total\{code="HOSTED_DOMAIN_MISMATCH"\} 1/);
  });

  it('serves each OIDC profile\'s public key as a JWKS', async () => {
    const res = await fetch(`${sp.url}/oidc/acme/google/jwks`);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.stringMatching(/^[\w-]{43}$/) });
    expect(keys[0]).not.toHaveProperty('d');
    expect((await fetch(`${sp.url}/oidc/acme/nope/jwks`)).status).toBe(404);
  });
});
