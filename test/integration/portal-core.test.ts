// The portal's foundation against a real API server: setup links (minted through the API with
// client credentials, single use under races, expiry, revocation), sessions bound to one
// organization, CSRF and origin checks, security headers, and the organization's writes —
// server-side applies that never override another field manager, refuse stale edits and
// GitOps-managed organizations, and leave an Event naming the portal user.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VerifiedDomain } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { GITOPS_ANNOTATION, Organization, PortalWriteError } from '../../portal/organization.ts';
import { SetupLinks } from '../../portal/setup-links/links.ts';
import { oauthClient } from '../../sp-server/oauth/clients.ts';
import { create, createNamespace, crPath, deleteNamespace, MERGE_PATCH, testClient } from '../support/kube.ts';
import { PortalClient, signInWithSetupLink, startTestPortal, type TestPortal } from '../support/portal.ts';

const kubeconfig = inject('kubeconfig');
const suffix = randomBytes(3).toString('hex');
const home = `portal-home-${suffix}`;
const orgA = `portal-a-${suffix}`;
const orgB = `portal-b-${suffix}`;
const SECRET = 'backend-secret-0123456789abcdef';
const minter = oauthClient.parse({ clientId: 'backend', redirectUris: ['https://app.example.com/cb'], clientSecretHash: `sha256:${createHash('sha256').update(SECRET).digest('hex')}`, mintSetupLinks: true });
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

let kube: KubeClient;
let portal: TestPortal;

async function api(method: string, path: string, auth: string | undefined, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(portal.url + path, { method, headers: { ...(auth ? { authorization: auth } : {}), ...(body ? { 'content-type': 'application/json' } : {}), accept: 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const linkPath = (url: unknown) => new URL(String(url)).pathname;

beforeAll(async () => {
  kube = await testClient(kubeconfig);
  for (const ns of [home, orgA, orgB]) await createNamespace(kube, ns);
  await kube.call('PATCH', `/api/v1/namespaces/${orgA}`, { body: { metadata: { annotations: { 'sso.gatehouse.dev/display-name': 'Acme Corporation' } } }, contentType: MERGE_PATCH });
  portal = await startTestPortal({ kube, gatehouseNamespace: home, linkMinters: [minter] });
  await create(kube, 'verifieddomains', orgA, { kind: 'VerifiedDomain', metadata: { name: 'a-example' }, spec: { domain: `a-${suffix}.example.com` } });
  for (const n of ['one', 'two']) await create(kube, 'verifieddomains', orgB, { kind: 'VerifiedDomain', metadata: { name: n }, spec: { domain: `${n}-${suffix}.example.org` } });
}, 60_000);

afterAll(async () => {
  await portal?.close();
  for (const ns of [home, orgA, orgB]) await deleteNamespace(kube, ns).catch(() => {});
  await kube?.close();
});

describe('setup-link API', () => {
  it('mints a link only for a client allowed to, with its secret, for an existing organization', async () => {
    expect((await api('POST', '/api/v1/setup-links', undefined, { namespace: orgA })).status).toBe(401);
    expect((await api('POST', '/api/v1/setup-links', basic('backend', 'wrong-secret-0123456789'), { namespace: orgA })).status).toBe(401);
    expect((await api('POST', '/api/v1/setup-links', basic('backend', SECRET), { namespace: 'Not A Namespace' })).status).toBe(400);
    expect((await api('POST', '/api/v1/setup-links', basic('backend', SECRET), { namespace: `nowhere-${suffix}` })).status).toBe(404);
    expect((await api('POST', '/api/v1/setup-links', basic('backend', SECRET), { namespace: orgA, ttl: '200h' })).status).toBe(400);
    const minted = await api('POST', '/api/v1/setup-links', basic('backend', SECRET), { namespace: orgA, ttl: '2h', issuedTo: 'it-admin@a.example.com' });
    expect(minted.status).toBe(201);
    expect(minted.json).toMatchObject({ namespace: orgA, createdBy: 'client backend', issuedTo: 'it-admin@a.example.com' });
    expect(Date.parse(String(minted.json.expiresAt)) - Date.now()).toBeGreaterThan(7_100_000);
    expect(String(minted.json.url)).toMatch(new RegExp(`^${portal.url}/setup/[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}$`));
    // Only the token's digest is stored.
    const cm = await kube.call<{ data: Record<string, string> }>('GET', `/api/v1/namespaces/${home}/configmaps/gatehouse-portal-setup-links`);
    const token = String(minted.json.url).split('.').at(-1) as string;
    expect(JSON.stringify(cm.data)).not.toContain(token);
    const listed = await api('GET', `/api/v1/setup-links?namespace=${orgA}`, basic('backend', SECRET));
    expect((listed.json.links as { id: string }[]).map((l) => l.id)).toContain(minted.json.id);
  });

  it('revokes a link: it stops working at once', async () => {
    const minted = await api('POST', '/api/v1/setup-links', basic('backend', SECRET), { namespace: orgA });
    expect((await api('DELETE', `/api/v1/setup-links/${String(minted.json.id)}`, basic('backend', SECRET))).status).toBe(204);
    expect((await api('DELETE', `/api/v1/setup-links/${String(minted.json.id)}`, basic('backend', SECRET))).status).toBe(404);
    const page = await new PortalClient(portal.url).get(linkPath(minted.json.url));
    expect(page.status).toBe(410);
    expect(page.body).toContain('used or revoked');
  });
});

describe('opening a setup link', () => {
  it('shows the organization on GET without using the link up, and starts a session on POST, once', async () => {
    const minted = await api('POST', '/api/v1/setup-links', basic('backend', SECRET), { namespace: orgA });
    const path = linkPath(minted.json.url);
    const browser = new PortalClient(portal.url);
    for (let i = 0; i < 2; i++) {
      const page = await browser.get(path);
      expect(page.status).toBe(200);
      expect(page.body).toContain('Acme Corporation');
    }
    const link = path.slice('/setup/'.length);
    // Concurrent redemptions from several browsers: exactly one gets a session.
    const racers = Array.from({ length: 5 }, () => new PortalClient(portal.url));
    const results = await Promise.all(racers.map((r) => r.post('/setup', { link }, { csrf: false })));
    expect(results.filter((r) => r.status === 303)).toHaveLength(1);
    expect(results.filter((r) => r.status === 410)).toHaveLength(4);
    const winner = racers[results.findIndex((r) => r.status === 303)] as PortalClient;
    const overview = await winner.get('/');
    expect(overview.status).toBe(200);
    expect(overview.body).toContain('Acme Corporation');
    expect(overview.body).toContain('0 of 1 verified');
    // The session cookie is HttpOnly and SameSite.
    expect(results.find((r) => r.status === 303)?.headers.getSetCookie().join(';')).toMatch(/HttpOnly.*SameSite=Lax|SameSite=Lax.*HttpOnly/i);
  });

  it('refuses an expired link and a malformed one', async () => {
    const minted = await portal.ctx.setupLinks.mint(orgB, 'tests', 60_000);
    const later = new SetupLinks(kube, { namespace: home, configMap: 'gatehouse-portal-setup-links', publicURL: portal.url, now: () => new Date(Date.now() + 120_000) });
    expect(await later.check(linkPath(minted.url).slice(7))).toEqual({ ok: false, reason: 'expired' });
    expect(await later.redeem(linkPath(minted.url).slice(7))).toEqual({ ok: false, reason: 'expired' });
    expect((await new PortalClient(portal.url).get('/setup/not-a-link')).status).toBe(400);
    // A wrong token for a live id is refused like an unknown link.
    const id = linkPath(minted.url).slice(7, 23);
    expect((await new PortalClient(portal.url).get(`/setup/${id}.${'A'.repeat(43)}`)).status).toBe(410);
  });
});

describe('sessions', () => {
  it('binds a session to its organization: another organization is never shown', async () => {
    const b = await signInWithSetupLink(portal, orgB);
    const page = await b.get('/');
    expect(page.body).toContain('0 of 2 verified');
    expect(page.body).not.toContain('Acme Corporation');
  });

  it('sends a browser without a session to sign in, and answers JSON clients 401', async () => {
    const anonymous = new PortalClient(portal.url);
    const page = await anonymous.get('/');
    expect(page.status).toBe(303);
    expect(page.location).toBe('/signin');
    expect((await anonymous.get('/', 'application/json')).status).toBe(401);
  });

  it('refuses a sign-out from another origin and ends the session from its own', async () => {
    const a = await signInWithSetupLink(portal, orgA);
    expect((await a.post('/signout', {}, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await a.get('/')).status).toBe(200);
    expect((await a.post('/signout', {})).status).toBe(200);
    expect((await a.get('/')).status).toBe(303);
  });

  it('answers with a strict CSP and no inline script or style', async () => {
    const a = await signInWithSetupLink(portal, orgA);
    const page = await a.get('/');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.body).not.toMatch(/<script>|<style>|\sstyle="|\son[a-z]+="/i);
  });
});

describe('organization writes', () => {
  const actor = { name: 'admin@a.example.com', via: 'sso' as const, email: 'admin@a.example.com' };

  it('applies as gatehouse-portal, refuses a stale resourceVersion, and records an Event naming the user', async () => {
    const org = new Organization(kube, portal.ctx.log, orgA, actor);
    const created = await org.apply<VerifiedDomain>('VerifiedDomain', 'written', { spec: { domain: `w-${suffix}.example.com` } });
    expect(created.metadata.managedFields?.some((m) => m.manager === 'gatehouse-portal')).toBe(true);
    await kube.call('PATCH', crPath('verifieddomains', orgA, 'written'), { body: { metadata: { labels: { touched: 'yes' } } }, contentType: MERGE_PATCH });
    const stale = org.apply('VerifiedDomain', 'written', { metadata: { labels: { team: 'it' } } }, { resourceVersion: created.metadata.resourceVersion });
    await expect(stale).rejects.toMatchObject({ kind: 'conflict', message: expect.stringContaining('changed by someone else') });
    await org.recordChange(created, 'DomainAdded', `added the domain w-${suffix}.example.com`);
    const events = await kube.call<{ items: { reason: string; message: string; involvedObject: { name: string } }[] }>('GET', `/api/v1/namespaces/${orgA}/events`);
    const event = events.items.find((e) => e.reason === 'DomainAdded');
    expect(event?.involvedObject.name).toBe('written');
    expect(event?.message).toContain('by admin@a.example.com in the admin portal');
  });

  it('never overrides a field another manager owns: the conflict names it', async () => {
    await kube.call('PATCH', crPath('managedusers', orgA, 'kim'), {
      body: { apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'ManagedUser', metadata: { name: 'kim' }, spec: { email: 'kim@a.example.com', sso: 'Disabled' } },
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'argocd-controller', force: true },
    });
    const org = new Organization(kube, portal.ctx.log, orgA, actor);
    const err = await org.apply('ManagedUser', 'kim', { spec: { email: 'kim@a.example.com', sso: 'Enabled' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortalWriteError);
    expect((err as PortalWriteError).kind).toBe('conflict');
    expect((err as PortalWriteError).message).toContain('argocd-controller');
    expect((err as PortalWriteError).fields.map((f) => f.field)).toContain('spec.sso');
    const user = await kube.call<{ spec: { sso: string } }>('GET', crPath('managedusers', orgA, 'kim'));
    expect(user.spec.sso).toBe('Disabled');
  });

  it('is read-only in a GitOps-managed organization', async () => {
    await kube.call('PATCH', `/api/v1/namespaces/${orgB}`, { body: { metadata: { annotations: { [GITOPS_ANNOTATION]: 'true' } } }, contentType: MERGE_PATCH });
    const org = new Organization(kube, portal.ctx.log, orgB, actor);
    await expect(org.apply('VerifiedDomain', 'three', { spec: { domain: `three-${suffix}.example.org` } })).rejects.toMatchObject({ kind: 'read-only' });
    const b = await signInWithSetupLink(portal, orgB);
    expect((await b.get('/')).body).toContain('managed through GitOps');
  });
});

describe('rate limits', () => {
  it('limits unauthenticated requests per client address', async () => {
    const limited = await startTestPortal({ kube, gatehouseNamespace: home, options: { openRateLimitPerMinute: 3 } });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await new PortalClient(limited.url).get('/signin')).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});
