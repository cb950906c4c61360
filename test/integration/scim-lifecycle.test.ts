// The provisioning lifecycle as Microsoft Entra ID and Okta drive it, against the real API
// server: every SCIM write must show up in the ManagedUser / ManagedGroup resources.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { groupsOfUser, kubeGroupSource } from '../../sp-server/scim/groups.ts';
import { create } from '../support/kube.ts';
import { CORE_GROUP, CORE_USER, ENTERPRISE, PATCH_OP, ScimHarness, type Org } from '../support/scim.ts';

const kubeconfig = inject('kubeconfig');
let h: ScimHarness;

beforeAll(async () => {
  h = await ScimHarness.start(kubeconfig);
});
afterAll(async () => {
  await h.stop();
});

describe('Microsoft Entra ID dialect', () => {
  let org: Org;
  beforeAll(async () => {
    org = await h.organization('entra', ['contoso.example']);
  });
  afterAll(async () => {
    await h.removeOrganization(org);
  });

  it('creates, finds, patches, deactivates, reactivates and deletes a user', async () => {
    const userName = 'Adele.Vance@Contoso.example';
    // Entra first looks the user up by its matching attribute.
    const before = await h.request(org, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ totalResults: 0, Resources: [] });

    const created = await h.request(org, 'POST', '/Users', {
      schemas: [CORE_USER, ENTERPRISE],
      externalId: '7f3b1e0c-entra-object-id',
      userName,
      active: true,
      displayName: 'Adele Vance',
      emails: [{ primary: true, type: 'work', value: userName }],
      name: { formatted: 'Adele Vance', familyName: 'Vance', givenName: 'Adele' },
      title: 'Retail Manager',
      [ENTERPRISE]: { employeeNumber: '1001', department: 'Retail', manager: { value: 'boss-id' } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    const id = created.body.id!;
    expect(id).toMatch(/^[a-z0-9-]+$/);
    expect(created.headers.get('location')).toBe(`${h.baseURL}/${org.namespace}/Users/${id}`);
    const meta = created.body.meta as { version: string; resourceType: string };
    expect(created.headers.get('etag')).toBe(meta.version);
    expect(meta.resourceType).toBe('User');
    expect(created.body).toMatchObject({ schemas: [CORE_USER, ENTERPRISE], userName, active: true, [ENTERPRISE]: { department: 'Retail' } });

    let mu = await h.managedUser(org.namespace, id);
    expect(mu?.spec).toMatchObject({ email: userName, active: true, displayName: 'Adele Vance' });
    expect(meta.version).toBe(`W/"${mu?.metadata.resourceVersion}"`);

    // Found by filter: userName (case-insensitive), externalId, emails.value.
    for (const filter of [
      `userName eq "${userName.toLowerCase()}"`,
      'externalId eq "7f3b1e0c-entra-object-id"',
      `emails[type eq "work" and value eq "${userName}"]`,
      `(userName eq "nobody@contoso.example" or emails.value eq "${userName}") and active eq true`,
    ]) {
      const found = await h.request(org, 'GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect(found.status, filter).toBe(200);
      expect(found.body.totalResults, filter).toBe(1);
      expect(found.body.Resources?.[0]?.id, filter).toBe(id);
    }

    // Entra's PATCH: capitalised ops, filtered paths, extension URNs, a path-less value map.
    const patched = await h.request(org, 'PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'displayName', value: 'Adele V.' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: userName },
        { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' },
        { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Sales' },
        { op: 'Add', value: { 'name.givenName': 'Adèle', title: 'Sales Lead' } },
      ],
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({
      displayName: 'Adele V.',
      title: 'Sales Lead',
      name: { givenName: 'Adèle', familyName: 'Vance' },
      phoneNumbers: [{ type: 'mobile', value: '+1 555 0100' }],
      [ENTERPRISE]: { department: 'Sales', employeeNumber: '1001' },
    });
    mu = await h.managedUser(org.namespace, id);
    expect(mu?.spec.displayName).toBe('Adele V.');

    // Deactivate with the string "False" Entra sends; the ManagedUser says so.
    const off = await h.request(org, 'PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect((await h.managedUser(org.namespace, id))?.spec.active).toBe(false);

    const on = await h.request(org, 'PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', value: { active: 'True' } }],
    });
    expect(on.status).toBe(200);
    expect((await h.managedUser(org.namespace, id))?.spec.active).toBe(true);

    // Groups: create, add the member, find by displayName without members, role-mapping lookup.
    const group = await h.request(org, 'POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'Sales Team', externalId: 'g-entra-1', members: [] });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    const gid = group.body.id!;
    const add = await h.request(org, 'PATCH', `/Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: id }] }],
    });
    expect(add.status, JSON.stringify(add.body)).toBe(200);
    expect((await h.managedGroup(org.namespace, gid)).spec).toMatchObject({ displayName: 'Sales Team', externalId: 'g-entra-1', members: [id] });
    const byName = await h.request(org, 'GET', `/Groups?filter=${encodeURIComponent('displayName eq "sales team"')}&excludedAttributes=members`);
    expect(byName.body.totalResults).toBe(1);
    expect(byName.body.Resources?.[0]).toMatchObject({ id: gid, displayName: 'Sales Team' });
    expect(byName.body.Resources?.[0]).not.toHaveProperty('members');
    const membership = await h.request(org, 'GET', `/Groups?filter=${encodeURIComponent(`id eq "${gid}" and members[value eq "${id}"]`)}`);
    expect(membership.body.totalResults).toBe(1);
    expect(await groupsOfUser(kubeGroupSource(h.client), org.namespace, id)).toEqual(['Sales Team']);

    const rename = await h.request(org, 'PATCH', `/Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'displayName', value: 'Sales EMEA' }],
    });
    expect(rename.status).toBe(200);
    expect(await groupsOfUser(kubeGroupSource(h.client), org.namespace, id)).toEqual(['Sales EMEA']);

    const removeMember = await h.request(org, 'PATCH', `/Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Remove', path: `members[value eq "${id}"]` }],
    });
    expect(removeMember.status).toBe(200);
    expect(await groupsOfUser(kubeGroupSource(h.client), org.namespace, id)).toEqual([]);
    await h.request(org, 'PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ value: id }] }] });

    // DELETE removes the ManagedUser and its group memberships.
    const del = await h.request(org, 'DELETE', `/Users/${id}`);
    expect(del.status).toBe(204);
    expect(await h.managedUser(org.namespace, id)).toBeUndefined();
    expect((await h.request(org, 'GET', `/Users/${id}`)).status).toBe(404);
    expect((await h.managedGroup(org.namespace, gid)).spec.members ?? []).toEqual([]);
    expect((await h.request(org, 'DELETE', `/Groups/${gid}`)).status).toBe(204);
    expect((await h.request(org, 'GET', `/Groups/${gid}`)).status).toBe(404);
  });
});

describe('Okta dialect', () => {
  let org: Org;
  beforeAll(async () => {
    org = await h.organization('okta', ['initech.example']);
  });
  afterAll(async () => {
    await h.removeOrganization(org);
  });

  it('creates, finds, replaces with PUT, deactivates, reactivates and deletes a user', async () => {
    const userName = 'peter.gibbons@initech.example';
    const lookup = `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`;
    const before = await h.request(org, 'GET', lookup);
    expect(before.body).toMatchObject({ totalResults: 0, startIndex: 1, itemsPerPage: 0 });

    const body = {
      schemas: [CORE_USER],
      userName,
      name: { givenName: 'Peter', familyName: 'Gibbons' },
      emails: [{ primary: true, value: userName, type: 'work' }],
      displayName: 'Peter Gibbons',
      locale: 'en-US',
      externalId: '00u1okta',
      groups: [],
      password: 'tps-reports-2026',
      active: true,
    };
    // Okta sends application/json.
    const created = await h.request(org, 'POST', '/Users', body, { 'content-type': 'application/json' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id!;
    expect(created.body).not.toHaveProperty('password');
    const mu = await h.managedUser(org.namespace, id);
    expect(JSON.stringify(mu)).not.toContain('tps-reports-2026');
    expect(mu?.spec).toMatchObject({ email: userName, active: true, displayName: 'Peter Gibbons' });

    const found = await h.request(org, 'GET', lookup);
    expect(found.body).toMatchObject({ totalResults: 1, itemsPerPage: 1 });
    expect(found.body.Resources?.[0]).toMatchObject({ id, userName, locale: 'en-US', externalId: '00u1okta' });

    expect((await h.request(org, 'GET', `/Users/${id}`)).body).toMatchObject({ id, userName });

    // Okta updates profiles with PUT of the whole user.
    const put = await h.request(org, 'PUT', `/Users/${id}`, { ...body, name: { givenName: 'Pete', familyName: 'Gibbons' }, displayName: 'Pete Gibbons' });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ name: { givenName: 'Pete' }, displayName: 'Pete Gibbons' });
    expect((await h.managedUser(org.namespace, id))?.spec.displayName).toBe('Pete Gibbons');

    // Okta deactivates with a path-less replace.
    const off = await h.request(org, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(off.status).toBe(200);
    expect((await h.managedUser(org.namespace, id))?.spec.active).toBe(false);
    const stillFound = await h.request(org, 'GET', lookup);
    expect(stillFound.body.Resources?.[0]).toMatchObject({ id, active: false });

    const on = await h.request(org, 'PUT', `/Users/${id}`, { ...body, active: true });
    expect(on.status).toBe(200);
    expect((await h.managedUser(org.namespace, id))?.spec.active).toBe(true);

    expect((await h.request(org, 'DELETE', `/Users/${id}`)).status).toBe(204);
    expect(await h.managedUser(org.namespace, id)).toBeUndefined();
  });

  it('pages with startIndex and count', async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4, 5]) {
      const res = await h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: `pager${n}@initech.example`, active: true });
      expect(res.status).toBe(201);
      ids.push(res.body.id!);
    }
    const filter = encodeURIComponent('userName sw "pager"');
    const seen: string[] = [];
    for (const start of [1, 3, 5]) {
      const page = await h.request(org, 'GET', `/Users?filter=${filter}&startIndex=${start}&count=2`);
      expect(page.body).toMatchObject({ totalResults: 5, startIndex: start });
      seen.push(...(page.body.Resources ?? []).map((r) => r.id));
    }
    expect(seen.sort()).toEqual([...ids].sort());
    const countZero = await h.request(org, 'GET', `/Users?filter=${filter}&count=0`);
    expect(countZero.body).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
  });

  it('sees users created with kubectl, and keeps their roles and SSO override on SCIM writes', async () => {
    await create(h.client, 'managedusers', org.namespace, {
      kind: 'ManagedUser',
      metadata: { name: 'legacy' },
      spec: { email: 'Legacy.User@initech.example', roles: ['admin'], sso: 'Disabled' },
    });
    // SCIM answers from its watch cache: a user written past it appears once the watch event arrives.
    const lookup = () => h.request(org, 'GET', `/Users?filter=${encodeURIComponent('userName eq "legacy.user@initech.example"')}`);
    await expect.poll(async () => (await lookup()).body.totalResults, { timeout: 10_000 }).toBe(1);
    const found = await lookup();
    expect(found.body.Resources?.[0]).toMatchObject({ id: 'legacy', userName: 'Legacy.User@initech.example', active: true });
    const dup = await h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: 'legacy.user@INITECH.example' });
    expect(dup.status).toBe(409);
    expect(dup.body.scimType).toBe('uniqueness');
    const patched = await h.request(org, 'PATCH', '/Users/legacy', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Legacy' }] });
    expect(patched.status).toBe(200);
    const mu = await h.managedUser(org.namespace, 'legacy');
    expect(mu?.spec).toMatchObject({ email: 'Legacy.User@initech.example', displayName: 'Legacy', roles: ['admin'], sso: 'Disabled', active: true });
    expect(mu?.metadata.labels?.['sso.gatehouse.dev/scim-indexed']).toBe('true');
  });

  it('gives an address back after its holder changed userName', async () => {
    const first = await h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: 'samir@initech.example' });
    expect(first.status).toBe(201);
    const renamed = await h.request(org, 'PATCH', `/Users/${first.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'userName', value: 'samir.n@initech.example' }],
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: first.body.id, userName: 'samir.n@initech.example' });
    const old = await h.request(org, 'GET', `/Users?filter=${encodeURIComponent('userName eq "samir@initech.example"')}`);
    expect(old.body.totalResults).toBe(0);
    const second = await h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: 'samir@initech.example' });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
    expect((await h.managedUser(org.namespace, second.body.id!))?.spec.email).toBe('samir@initech.example');
    expect((await h.managedUser(org.namespace, first.body.id!))?.spec.email).toBe('samir.n@initech.example');
  });

  it('serves the discovery endpoints', async () => {
    const spc = await h.request(org, 'GET', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.body).toMatchObject({ patch: { supported: true }, filter: { supported: true }, etag: { supported: true }, bulk: { supported: false } });
    const types = await h.request(org, 'GET', '/ResourceTypes');
    expect((types.body.Resources ?? []).map((r) => r.id)).toEqual(['User', 'Group']);
    const schemas = await h.request(org, 'GET', '/Schemas');
    expect((schemas.body.Resources ?? []).map((r) => r.id)).toEqual([CORE_USER, ENTERPRISE, CORE_GROUP]);
    expect((await h.request(org, 'GET', `/Schemas/${encodeURIComponent(ENTERPRISE)}`)).status).toBe(200);
    expect((await h.request(org, 'GET', '/ResourceTypes/Nope')).status).toBe(404);
  });
});

describe('unfiltered listing (an IdP import)', () => {
  let org: Org;
  const ids: string[] = [];
  beforeAll(async () => {
    org = await h.organization('import', ['umbrella.example']);
    for (let n = 0; n < 7; n++) {
      const res = await h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: `u${n}@umbrella.example` });
      expect(res.status).toBe(201);
      ids.push(res.body.id!);
    }
  });
  afterAll(async () => {
    await h.removeOrganization(org);
  });

  it('walks every user exactly once, page by page, with the total on every page', async () => {
    const seen: string[] = [];
    for (let start = 1; start <= 9; start += 3) {
      const page = await h.request(org, 'GET', `/Users?startIndex=${start}&count=3`);
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ totalResults: 7, startIndex: start });
      expect(page.body.itemsPerPage).toBe(Math.min(3, 7 - start + 1));
      seen.push(...(page.body.Resources ?? []).map((r) => r.id));
    }
    expect(seen).toHaveLength(7);
    expect([...seen].sort()).toEqual([...ids].sort());
  });

  it('serves any page directly, past the end, count=0 and the default count', async () => {
    const direct = await h.request(org, 'GET', '/Users?startIndex=6&count=5');
    expect(direct.body).toMatchObject({ totalResults: 7, itemsPerPage: 2 });
    const past = await h.request(org, 'GET', '/Users?startIndex=50&count=5');
    expect(past.body).toMatchObject({ totalResults: 7, itemsPerPage: 0, Resources: [] });
    const none = await h.request(org, 'GET', '/Users?count=0');
    expect(none.body).toMatchObject({ totalResults: 7, itemsPerPage: 0 });
    const all = await h.request(org, 'GET', '/Users?startIndex=0&count=-4');
    expect(all.body).toMatchObject({ totalResults: 7, startIndex: 1, itemsPerPage: 0 });
    const defaults = await h.request(org, 'GET', '/Users?attributes=userName');
    expect(defaults.body).toMatchObject({ totalResults: 7, itemsPerPage: 7 });
    expect(Object.keys(defaults.body.Resources?.[0] ?? {}).sort()).toEqual(['id', 'meta', 'schemas', 'userName']);
  });
});
