// Concurrent PATCHes never lose an update: writes are conditional on the resourceVersion read,
// and a conflict re-reads and re-applies the SCIM patch.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CORE_GROUP, CORE_USER, ENTERPRISE, PATCH_OP, ScimHarness, type Org } from '../support/scim.ts';

const kubeconfig = inject('kubeconfig');
let h: ScimHarness;
let org: Org;

beforeAll(async () => {
  h = await ScimHarness.start(kubeconfig);
  org = await h.organization('concurrency', ['race.example']);
});
afterAll(async () => {
  await h.removeOrganization(org);
  await h.stop();
});

describe('SCIM concurrency', () => {
  it('lands two PATCHes sent at once to the same user', async () => {
    const created = await h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: 'ada@race.example' });
    const id = created.body.id!;
    const [a, b] = await Promise.all([
      h.request(org, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'displayName', value: 'Ada Lovelace' }] }),
      h.request(org, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: `${ENTERPRISE}:department`, value: 'Analytics' }] }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const final = await h.request(org, 'GET', `/Users/${id}`);
    expect(final.body).toMatchObject({ displayName: 'Ada Lovelace', [ENTERPRISE]: { department: 'Analytics' } });
    expect((await h.managedUser(org.namespace, id))?.spec.displayName).toBe('Ada Lovelace');
  });

  it('lands every one of many concurrent member additions to one group', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: `member${i}@race.example` });
      expect(res.status).toBe(201);
      ids.push(res.body.id!);
    }
    const group = await h.request(org, 'POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'Racers' });
    const gid = group.body.id!;
    const results = await Promise.all(
      ids.map((id) => h.request(org, 'PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ value: id }] }] })),
    );
    expect(results.map((r) => r.status)).toEqual(ids.map(() => 200));
    expect([...((await h.managedGroup(org.namespace, gid)).spec.members ?? [])].sort()).toEqual([...ids].sort());
  });

  it('creates a userName once when two creates race', async () => {
    const body = { schemas: [CORE_USER], userName: 'twice@race.example' };
    const results = await Promise.all([h.request(org, 'POST', '/Users', body), h.request(org, 'POST', '/Users', body)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect((await h.managedUsers(org.namespace)).filter((u) => u.spec.email === 'twice@race.example')).toHaveLength(1);
  });
});
