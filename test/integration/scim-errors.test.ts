// Malformed requests get SCIM error bodies with the right status and scimType, and never write.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MAX_GROUP_MEMBERS, MAX_PATCH_OPERATIONS, MAX_PAYLOAD_BYTES } from '../../sp-server/scim/limits.ts';
import { CORE_GROUP, CORE_USER, ERROR, PATCH_OP, ScimHarness, type Org } from '../support/scim.ts';

const kubeconfig = inject('kubeconfig');
let h: ScimHarness;
let org: Org;
let id: string;
let version: string;

beforeAll(async () => {
  h = await ScimHarness.start(kubeconfig);
  org = await h.organization('errors', ['errors.example']);
  const res = await h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: 'kim@errors.example', displayName: 'Kim' });
  expect(res.status).toBe(201);
  id = res.body.id!;
  version = res.headers.get('etag')!;
});
afterAll(async () => {
  await h.removeOrganization(org);
  await h.stop();
});

async function expectError(res: Promise<{ status: number; body: Record<string, unknown>; headers: Headers }>, status: number, scimType?: string) {
  const r = await res;
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  expect(r.body.schemas).toEqual([ERROR]);
  expect(r.body.status).toBe(String(status));
  expect(typeof r.body.detail).toBe('string');
  if (scimType) expect(r.body.scimType).toBe(scimType);
  else expect(r.body).not.toHaveProperty('scimType');
}

describe('SCIM errors', () => {
  it('rejects malformed filters with 400 invalidFilter', async () => {
    for (const filter of ['userName eq', 'userName eq "a" and', '(userName eq "a"', 'userName xx "a"', 'userName eq "a" ; x', 'emails[type eq "work"']) {
      await expectError(h.request(org, 'GET', `/Users?filter=${encodeURIComponent(filter)}`), 400, 'invalidFilter');
    }
    await expectError(h.request(org, 'GET', '/Users?startIndex=abc'), 400, 'invalidValue');
  });

  it('rejects malformed bodies without writing anything', async () => {
    const before = await h.managedUsers(org.namespace);
    await expectError(h.request(org, 'POST', '/Users', '{"userName": "x@errors.example",'), 400, 'invalidSyntax');
    await expectError(h.request(org, 'POST', '/Users', '', { 'content-type': 'application/scim+json' }), 400, 'invalidSyntax');
    await expectError(h.request(org, 'POST', '/Users', '[1,2]'), 400, 'invalidSyntax');
    await expectError(h.request(org, 'POST', '/Users', { schemas: [CORE_USER] }), 400, 'invalidValue');
    await expectError(h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: 'a@errors.example', active: 'maybe' }), 400, 'invalidValue');
    await expectError(h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: 'a@errors.example', emails: 'a@errors.example' }), 400, 'invalidValue');
    await expectError(h.request(org, 'POST', '/Users', 'userName=a', { 'content-type': 'text/plain' }), 415);
    await expectError(h.request(org, 'PATCH', `/Users/${id}`, { Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] }), 400, 'invalidSyntax');
    await expectError(h.request(org, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'explode', path: 'displayName' }] }), 400, 'invalidSyntax');
    await expectError(h.request(org, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove' }] }), 400, 'noTarget');
    await expectError(h.request(org, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'emails[type eq', value: 'x' }] }), 400, 'invalidPath');
    await expectError(h.request(org, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'id', value: 'other' }] }), 400, 'mutability');
    // A PATCH whose second operation fails leaves the first one unapplied.
    await expectError(
      h.request(org, 'PATCH', `/Users/${id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'displayName', value: 'Half' }, { op: 'replace', path: 'active', value: 'perhaps' }],
      }),
      400,
      'invalidValue',
    );
    const after = await h.managedUsers(org.namespace);
    expect(after.map((u) => [u.metadata.name, u.metadata.resourceVersion])).toEqual(before.map((u) => [u.metadata.name, u.metadata.resourceVersion]));
    expect(after.find((u) => u.metadata.name === id)?.spec.displayName).toBe('Kim');
  });

  it('refuses a group with members that are not users of the organization, without creating it', async () => {
    await expectError(
      h.request(org, 'POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Ghosts', members: [{ value: id }, { value: 'no-such-user' }] }),
      400,
      'invalidValue',
    );
    await expectError(
      h.request(org, 'POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Ghosts', members: [{ value: '../etc' }] }),
      400,
      'invalidValue',
    );
    const groups = await h.request(org, 'GET', '/Groups');
    expect(groups.body.totalResults).toBe(0);
  });

  it('counts requests by resource and status in gatehouse_scim_requests_total', async () => {
    await h.request(org, 'GET', '/Users/no-such-user');
    const text = await h.metrics.registry.getSingleMetricAsString('gatehouse_scim_requests_total');
    expect(text).toMatch(/gatehouse_scim_requests_total\{resource="Users",method="GET",status="404"\} [1-9]/);
  });

  it('answers 404 for unknown resources and endpoints, 409 for a taken userName, 412 for a stale If-Match', async () => {
    await expectError(h.request(org, 'GET', '/Users/no-such-user'), 404);
    await expectError(h.request(org, 'GET', '/Users/Not_A..Name'), 404);
    await expectError(h.request(org, 'PATCH', '/Users/no-such-user', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }), 404);
    await expectError(h.request(org, 'DELETE', '/Users/no-such-user'), 404);
    await expectError(h.request(org, 'GET', '/Bulk'), 404);
    await expectError(h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: 'KIM@errors.example' }), 409, 'uniqueness');

    const current = await h.request(org, 'GET', `/Users/${id}`);
    const etag = current.headers.get('etag')!;
    expect(etag).toBe(version);
    const ok = await h.request(org, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'v2' }] }, { 'if-match': etag });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).not.toBe(etag);
    await expectError(
      h.request(org, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'v3' }] }, { 'if-match': etag }),
      412,
      'invalidVers',
    );
    await expectError(h.request(org, 'DELETE', `/Users/${id}`, undefined, { 'if-match': etag }), 412, 'invalidVers');
    expect((await h.request(org, 'GET', `/Users/${id}`)).body.title).toBe('v2');
  });

  it('holds every request to the limits ServiceProviderConfig advertises, without writing', async () => {
    const spc = await h.request(org, 'GET', '/ServiceProviderConfig');
    expect(spc.body).toMatchObject({ patch: { maxOperations: MAX_PATCH_OPERATIONS, maxGroupMembers: MAX_GROUP_MEMBERS }, bulk: { maxPayloadSize: MAX_PAYLOAD_BYTES } });
    const before = await h.managedUsers(org.namespace);

    const oversized = JSON.stringify({ schemas: [CORE_USER], userName: 'big@errors.example', title: 'x'.repeat(MAX_PAYLOAD_BYTES) });
    await expectError(h.request(org, 'POST', '/Users', oversized), 413);
    const operations = Array.from({ length: MAX_PATCH_OPERATIONS + 1 }, (_, i) => ({ op: 'replace', path: 'title', value: `t${i}` }));
    await expectError(h.request(org, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: operations }), 400, 'tooMany');
    const roles = Array.from({ length: 51 }, (_, i) => ({ value: `role-${i}` }));
    await expectError(h.request(org, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'roles', value: roles }] }), 400, 'tooMany');

    const group = await h.request(org, 'POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'Everyone', members: [{ value: id }] });
    expect(group.status).toBe(201);
    const members = Array.from({ length: MAX_GROUP_MEMBERS }, (_, i) => ({ value: `user-${i}` }));
    await expectError(h.request(org, 'PATCH', `/Groups/${group.body.id!}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members }] }), 400, 'tooMany');
    expect((await h.managedGroup(org.namespace, group.body.id!)).spec.members).toEqual([id]);
    await h.request(org, 'DELETE', `/Groups/${group.body.id!}`);
    const after = await h.managedUsers(org.namespace);
    expect(after.map((u) => [u.metadata.name, u.metadata.resourceVersion])).toEqual(before.map((u) => [u.metadata.name, u.metadata.resourceVersion]));
  });
});
