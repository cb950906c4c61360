// One organization's SCIM token never reads or writes another organization, and a userName is
// accepted only in the organization's own Verified domains.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CORE_USER, ERROR, PATCH_OP, ScimHarness, type Org } from '../support/scim.ts';

const kubeconfig = inject('kubeconfig');
let h: ScimHarness;
let acme: Org;
let globex: Org;
let acmeUser: string;

let forger: Org;

beforeAll(async () => {
  h = await ScimHarness.start(kubeconfig);
  acme = await h.organization('acme', ['acme.example'], ['pending.acme.example']);
  // A tenant that wrote Verified=True into its own VerifiedDomain's status: the operator never
  // signed it, so the rendered config does not list the domain.
  forger = await h.organization('forger', [], ['forged.example']);
  await h.forgeVerified(forger, 'forged.example');
  globex = await h.organization('globex', ['globex.example']);
  const res = await h.request(acme, 'POST', '/Users', { schemas: [CORE_USER], userName: 'wile@acme.example' });
  expect(res.status).toBe(201);
  acmeUser = res.body.id!;
});
afterAll(async () => {
  await h.removeOrganization(acme);
  await h.removeOrganization(globex);
  await h.removeOrganization(forger);
  await h.stop();
});

describe('SCIM authentication and organization isolation', () => {
  it('refuses requests without a valid bearer token, with a SCIM 401 and WWW-Authenticate', async () => {
    for (const authorization of [undefined, 'Bearer ', `Basic ${acme.token}`, `Bearer ${acme.token}x`, 'Bearer not-the-token']) {
      const res = await h.request({ namespace: acme.namespace }, 'GET', '/Users', undefined, authorization ? { authorization } : {});
      expect(res.status, String(authorization)).toBe(401);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '401' });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await h.request(acme, 'GET', '/ServiceProviderConfig', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
  });

  it("never lets one organization's token read or write another organization", async () => {
    const asGlobexOnAcme = { namespace: acme.namespace, token: globex.token };
    expect((await h.request(asGlobexOnAcme, 'GET', '/Users')).status).toBe(401);
    expect((await h.request(asGlobexOnAcme, 'GET', `/Users/${acmeUser}`)).status).toBe(401);
    expect((await h.request(asGlobexOnAcme, 'POST', '/Users', { schemas: [CORE_USER], userName: 'mallory@acme.example' })).status).toBe(401);
    expect(
      (await h.request(asGlobexOnAcme, 'PATCH', `/Users/${acmeUser}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }))
        .status,
    ).toBe(401);
    expect((await h.request(asGlobexOnAcme, 'DELETE', `/Users/${acmeUser}`)).status).toBe(401);

    // With its own token, globex addresses only its own namespace: acme's user id is unknown there.
    expect((await h.request(globex, 'GET', `/Users/${acmeUser}`)).status).toBe(404);
    expect((await h.request(globex, 'DELETE', `/Users/${acmeUser}`)).status).toBe(404);
    const list = await h.request(globex, 'GET', `/Users?filter=${encodeURIComponent('userName eq "wile@acme.example"')}`);
    expect(list.body.totalResults).toBe(0);

    // And it cannot provision users into acme's domain inside its own namespace.
    const steal = await h.request(globex, 'POST', '/Users', { schemas: [CORE_USER], userName: 'mallory@acme.example' });
    expect(steal.status).toBe(400);
    expect(steal.body.scimType).toBe('invalidValue');

    const mu = await h.managedUser(acme.namespace, acmeUser);
    expect(mu?.spec).toMatchObject({ email: 'wile@acme.example', active: true });
    expect(await h.managedUsers(globex.namespace)).toEqual([]);
  });

  it('accepts userNames only in Verified domains, with a 400 invalidValue and no write otherwise', async () => {
    const before = (await h.managedUsers(acme.namespace)).length;
    for (const userName of ['road@pending.acme.example', 'road@other.example', 'not-an-email', 'road@acme.example.evil']) {
      const res = await h.request(acme, 'POST', '/Users', { schemas: [CORE_USER], userName });
      expect(res.status, userName).toBe(400);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidValue' });
    }
    // Renaming an existing user out of the verified domains is refused the same way.
    const rename = await h.request(acme, 'PATCH', `/Users/${acmeUser}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'displayName', value: 'changed' }, { op: 'replace', path: 'userName', value: 'wile@globex.example' }],
    });
    expect(rename.status).toBe(400);
    expect(rename.body.scimType).toBe('invalidValue');
    const users = await h.managedUsers(acme.namespace);
    expect(users.length).toBe(before);
    expect(users.find((u) => u.metadata.name === acmeUser)?.spec).toMatchObject({ email: 'wile@acme.example' });
    expect(users.find((u) => u.metadata.name === acmeUser)?.spec.displayName).toBeUndefined();
  });

  it('trusts only the operator\'s rendered Verified domains, never a status a tenant wrote', async () => {
    const res = await h.request(forger, 'POST', '/Users', { schemas: [CORE_USER], userName: 'ceo@forged.example' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidValue' });
    expect(await h.managedUsers(forger.namespace)).toHaveLength(0);
  });
});
