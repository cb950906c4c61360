// The Domains screen against a real API server: adding a domain (a VerifiedDomain applied by the
// portal's field manager, with an Event naming the admin), refusing bad input and duplicates with
// the message next to the field and nothing written, the operator's status in plain words (the
// TXT record, a conflict with another organization, lapsing), re-check through the annotation,
// and the refusals: GitOps-managed organization, missing CSRF token, another organization's domain.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VerifiedDomain } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { GITOPS_ANNOTATION } from '../../portal/organization.ts';
import { RECHECK_ANNOTATION } from '../../crds/api/verified-domain.ts';
import { create, createNamespace, crPath, deleteNamespace, getIfExists, MERGE_PATCH, testClient } from '../support/kube.ts';
import { signInWithSetupLink, startTestPortal, type PortalClient, type TestPortal } from '../support/portal.ts';

const kubeconfig = inject('kubeconfig');
const suffix = randomBytes(3).toString('hex');
const home = `pdom-home-${suffix}`;
const orgA = `pdom-a-${suffix}`;
const orgB = `pdom-b-${suffix}`;
const gitops = `pdom-g-${suffix}`;

let kube: KubeClient;
let portal: TestPortal;
let admin: PortalClient;

type Event = { reason: string; message: string; involvedObject: { name: string; kind: string } };
const eventsOf = async (ns: string) => (await kube.call<{ items: Event[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items;
const domainsOf = async (ns: string) => (await kube.call<{ items: VerifiedDomain[] }>('GET', crPath('verifieddomains', ns))).items;

/** Status as the operator writes it (operator/controllers/verified-domain.ts). */
async function writeStatus(ns: string, name: string, status: Record<string, unknown>): Promise<void> {
  await kube.call('PATCH', `${crPath('verifieddomains', ns, name)}/status`, { body: { status }, contentType: MERGE_PATCH });
}
const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });

/** The field's error text as rendered next to it. */
const fieldError = (body: string, id: string) => new RegExp(`id="${id}-error">([^<]*)<`).exec(body)?.[1];

beforeAll(async () => {
  kube = await testClient(kubeconfig);
  for (const ns of [home, orgA, orgB, gitops]) await createNamespace(kube, ns);
  await kube.call('PATCH', `/api/v1/namespaces/${gitops}`, { body: { metadata: { annotations: { [GITOPS_ANNOTATION]: 'true' } } }, contentType: MERGE_PATCH });
  portal = await startTestPortal({ kube, gatehouseNamespace: home });
  admin = await signInWithSetupLink(portal, orgA);
}, 60_000);

afterAll(async () => {
  await portal?.close();
  for (const ns of [home, orgA, orgB, gitops]) await deleteNamespace(kube, ns).catch(() => {});
  await kube?.close();
});

describe('adding a domain', () => {
  it('applies a VerifiedDomain as gatehouse-portal, records an Event naming the admin, and shows the TXT record once the operator has one', async () => {
    const domain = `corp-${suffix}.example.com`;
    const name = `corp-${suffix}-example-com`;
    expect((await admin.get('/domains')).status).toBe(200);
    const added = await admin.post('/domains', { domain: ` Corp-${suffix}.Example.COM ` });
    expect(added.status).toBe(303);
    expect(added.location).toBe('/domains');
    const vd = await kube.call<VerifiedDomain>('GET', crPath('verifieddomains', orgA, name));
    expect(vd.spec.domain).toBe(domain);
    expect((vd.metadata.managedFields as { manager: string; operation: string }[]).some((m) => m.manager === 'gatehouse-portal' && m.operation === 'Apply')).toBe(true);
    const event = (await eventsOf(orgA)).find((e) => e.reason === 'DomainAdded' && e.involvedObject.name === name);
    expect(event?.message).toContain(`added the domain ${domain}`);
    expect(event?.message).toMatch(/by setup link .+ in the admin portal/);

    const page = await admin.get('/domains');
    expect(page.body).toContain(`Added ${domain}`);
    expect(page.body).toContain('Waiting for the TXT record');
    expect(page.body).toContain('preparing the TXT record');

    const recordValue = `gatehouse-domain-verification=${suffix}abc`;
    const next = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await writeStatus(orgA, name, {
      conditions: [cond('Verified', 'False', 'RecordNotFound', `TXT record not found at _gatehouse-challenge.${domain}; next check at ${next}`), cond('VerificationLapsing', 'False', 'NotVerified', 'the domain is not verified')],
      verification: { recordName: `_gatehouse-challenge.${domain}`, recordValue, lastCheckedTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), nextCheckTime: next },
    });
    const shown = await admin.get('/domains');
    expect(shown.body).toContain(`<code id="txt-name-${name}">_gatehouse-challenge.${domain}</code>`);
    expect(shown.body).toContain(`<code id="txt-value-${name}">${recordValue}</code>`);
    expect(shown.body).toContain('data-copy="txt-value-');
    expect(shown.body).toContain('No TXT record was found');
    expect(shown.body).toMatch(/Last check<\/dt><dd><time/);
    expect(shown.body).toMatch(/Next check<\/dt><dd><time[^>]*>in /);
    // The notice was shown once.
    expect(shown.body).not.toContain(`Added ${domain}`);
  });

  it('refuses a malformed domain with the message next to the field, writing nothing', async () => {
    const before = (await domainsOf(orgA)).length;
    for (const bad of ['not a domain', 'https://example.com', 'localhost', '']) {
      const page = await admin.post('/domains', { domain: bad });
      expect(page.status).toBe(422);
      expect(page.body).toMatch(/id="domain"[^>]*aria-invalid="true"/);
      expect(fieldError(page.body, 'domain')).toMatch(/Enter a domain/);
    }
    expect((await domainsOf(orgA)).length).toBe(before);
  });

  it('refuses a domain the organization already has, next to the field', async () => {
    const domain = `dup-${suffix}.example.com`;
    expect((await admin.post('/domains', { domain })).status).toBe(303);
    const before = await domainsOf(orgA);
    const again = await admin.post('/domains', { domain: domain.toUpperCase() });
    expect(again.status).toBe(422);
    expect(fieldError(again.body, 'domain')).toContain(`${domain} is already a domain of this organization`);
    expect((await domainsOf(orgA)).map((d) => d.metadata.resourceVersion)).toEqual(before.map((d) => d.metadata.resourceVersion));
  });

  it('refuses, next to the field, a domain another organization has verified, writing nothing', async () => {
    const domain = `claimed-${suffix}.example.com`;
    await create(kube, 'verifieddomains', orgB, { kind: 'VerifiedDomain', metadata: { name: 'claimed' }, spec: { domain } });
    const before = await domainsOf(orgA);
    await writeStatus(orgB, 'claimed', { conditions: [cond('Verified', 'True', 'Verified', 'TXT record found')] });
    const refused = await admin.post('/domains', { domain });
    expect(refused.status).toBe(409);
    expect(fieldError(refused.body, 'domain')).toContain(`${domain} is already verified by another organization`);
    expect(refused.body).not.toContain(orgB);
    expect((await domainsOf(orgA)).length).toBe(before.length);
  });

  it('says so in words when another organization verified the domain first', async () => {
    const domain = `taken-${suffix}.example.com`;
    const name = `taken-${suffix}-example-com`;
    expect((await admin.post('/domains', { domain })).status).toBe(303);
    await writeStatus(orgA, name, {
      conditions: [cond('Verified', 'False', 'Conflict', `${domain} is already verified by another organization; it cannot be verified here`), cond('VerificationLapsing', 'False', 'NotVerified', 'the domain is not verified')],
      verification: { recordName: `_gatehouse-challenge.${domain}`, recordValue: 'gatehouse-domain-verification=x', lastCheckedTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
    });
    const page = await admin.get('/domains');
    const card = page.body.slice(page.body.indexOf(`id="vd-${name}"`));
    expect(card).toMatch(/^[^]*?Claimed by another organization/);
    expect(card).toContain(`Another organization verified ${domain} first`);
    expect(card).toContain('release it from the other organization');
  });

  it('warns while a verified domain is lapsing', async () => {
    const domain = `lapse-${suffix}.example.com`;
    const name = `lapse-${suffix}-example-com`;
    expect((await admin.post('/domains', { domain })).status).toBe(303);
    await writeStatus(orgA, name, {
      conditions: [cond('Verified', 'True', 'Verified', 'TXT record found'), cond('VerificationLapsing', 'True', 'RecordNotFound', `TXT record not found at _gatehouse-challenge.${domain}`)],
      verification: { recordName: `_gatehouse-challenge.${domain}`, recordValue: 'gatehouse-domain-verification=y', lapseTime: new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z') },
    });
    const card = (await admin.get('/domains')).body.split(`id="vd-${name}"`)[1] ?? '';
    expect(card).toMatch(/^[^]*?Lapsing/);
    expect(card).toContain('publish the record again before then');
  });
});

describe('re-checking a domain', () => {
  it('sets the recheck annotation, keeps the spec the portal applied, and records an Event', async () => {
    const domain = `recheck-${suffix}.example.com`;
    const name = `recheck-${suffix}-example-com`;
    expect((await admin.post('/domains', { domain })).status).toBe(303);
    await admin.get('/domains');
    const first = await admin.post(`/domains/${name}/recheck`, {});
    expect(first.status).toBe(303);
    const vd = await kube.call<VerifiedDomain>('GET', crPath('verifieddomains', orgA, name));
    const stamp = vd.metadata.annotations?.[RECHECK_ANNOTATION];
    expect(Date.parse(stamp ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect(vd.spec.domain).toBe(domain);
    expect((await admin.get('/domains')).body).toContain(`checks the TXT record of ${domain} now`);
    await new Promise((r) => setTimeout(r, 5));
    expect((await admin.post(`/domains/${name}/recheck`, {})).status).toBe(303);
    const again = await kube.call<VerifiedDomain>('GET', crPath('verifieddomains', orgA, name));
    expect(again.metadata.annotations?.[RECHECK_ANNOTATION]).not.toBe(stamp);
    expect((await eventsOf(orgA)).filter((e) => e.reason === 'DomainRecheckRequested' && e.involvedObject.name === name)).toHaveLength(2);
  });

  it('re-checks a domain created with kubectl without taking over its spec', async () => {
    await create(kube, 'verifieddomains', orgA, { kind: 'VerifiedDomain', metadata: { name: 'by-kubectl' }, spec: { domain: `kubectl-${suffix}.example.com` } });
    expect((await admin.post('/domains/by-kubectl/recheck', {})).status).toBe(303);
    const vd = await kube.call<VerifiedDomain>('GET', crPath('verifieddomains', orgA, 'by-kubectl'));
    expect(vd.metadata.annotations?.[RECHECK_ANNOTATION]).toBeDefined();
    const portalFields = (vd.metadata.managedFields as { manager: string; fieldsV1: Record<string, unknown> }[]).find((m) => m.manager === 'gatehouse-portal');
    expect(Object.keys(portalFields?.fieldsV1 ?? {})).toEqual(['f:metadata']);
  });

  it("never touches another organization's domain", async () => {
    await create(kube, 'verifieddomains', orgB, { kind: 'VerifiedDomain', metadata: { name: 'other' }, spec: { domain: `other-${suffix}.example.org` } });
    expect((await admin.post('/domains/other/recheck', {})).status).toBe(404);
    expect((await admin.post('/domains/..%2Fother/recheck', {})).status).toBe(404);
    const vd = await kube.call<VerifiedDomain>('GET', crPath('verifieddomains', orgB, 'other'));
    expect(vd.metadata.annotations?.[RECHECK_ANNOTATION]).toBeUndefined();
    expect(await getIfExists(kube, crPath('verifieddomains', orgA, 'other'))).toBeUndefined();
  });
});

describe('refusals', () => {
  it('is read-only in a GitOps-managed organization: forms disabled, writes refused with the reason', async () => {
    await create(kube, 'verifieddomains', gitops, { kind: 'VerifiedDomain', metadata: { name: 'in-git' }, spec: { domain: `git-${suffix}.example.org` } });
    const g = await signInWithSetupLink(portal, gitops);
    const page = await g.get('/domains');
    expect(page.body).toContain('managed through GitOps');
    expect(page.body).toMatch(/<fieldset disabled>/);
    expect(page.body).toMatch(/<button type="submit" class="secondary" disabled>Re-check now/);
    const add = await g.post('/domains', { domain: `new-${suffix}.example.org` });
    expect(add.status).toBe(403);
    expect(add.body).toContain('managed through GitOps');
    const recheck = await g.post('/domains/in-git/recheck', {});
    expect(recheck.status).toBe(403);
    expect((await domainsOf(gitops)).map((d) => d.metadata.name)).toEqual(['in-git']);
    expect((await domainsOf(gitops))[0]?.metadata.annotations?.[RECHECK_ANNOTATION]).toBeUndefined();
  });

  it('refuses a form without the CSRF token', async () => {
    const domain = `csrf-${suffix}.example.com`;
    const res = await admin.post('/domains', { domain }, { csrf: false });
    expect(res.status).toBe(403);
    expect(await getIfExists(kube, crPath('verifieddomains', orgA, `csrf-${suffix}-example-com`))).toBeUndefined();
  });
});
