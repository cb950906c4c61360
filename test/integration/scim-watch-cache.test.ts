// SCIM and login read from watch caches, not one LIST per request: once synced, a user's
// creation and `userName eq` lookup send the API server no LIST, and the groups a login maps to
// roles follow every change of a ManagedGroup (membership, rename) without a request per login.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KubeClient, type RequestEvent } from '../../kube/client.ts';
import { loadCredentials } from '../../kube/kubeconfig.ts';
import { groupsOfUser, ManagedGroupCache } from '../../sp-server/scim/groups.ts';
import { CORE_GROUP, CORE_USER, PATCH_OP, ScimHarness, type Org } from '../support/scim.ts';
import { waitFor } from '../support/wait.ts';

const kubeconfig = inject('kubeconfig');
const scimRequests: RequestEvent[] = [];
let h: ScimHarness;
let org: Org;

/** The API-server requests `run` caused, watches aside. */
async function requestsDuring(log: RequestEvent[], run: () => Promise<unknown>): Promise<string[]> {
  const before = log.length;
  await run();
  return log.slice(before).filter((e) => e.verb !== 'watch').map((e) => `${e.verb} ${e.path}`);
}

beforeAll(async () => {
  h = await ScimHarness.start(kubeconfig, { onRequest: (e) => scimRequests.push(e) });
  org = await h.organization('watchcache', ['cache.example']);
});
afterAll(async () => {
  await h.removeOrganization(org);
  await h.stop();
});

describe('SCIM from the watch cache', () => {
  it('creates a user and finds it by userName without listing users', async () => {
    const seed = await h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: 'seed@cache.example' });
    expect(seed.status).toBe(201);
    // The cache syncs in the background; until then lookups are LISTs.
    await waitFor('the SCIM user cache to answer lookups', async () =>
      (await requestsDuring(scimRequests, () => h.request(org, 'GET', `/Users?filter=${encodeURIComponent('userName eq "seed@cache.example"')}`))).length === 0);

    let id = '';
    const createRequests = await requestsDuring(scimRequests, async () => {
      const res = await h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: 'Grace@Cache.example', externalId: 'g-1' });
      expect(res.status).toBe(201);
      id = res.body.id!;
    });
    expect(createRequests.filter((r) => !r.startsWith('post '))).toEqual([]);

    const lookupRequests = await requestsDuring(scimRequests, async () => {
      for (const filter of ['userName eq "grace@cache.example"', 'emails[value eq "GRACE@cache.example"]', 'externalId eq "g-1"']) {
        const res = await h.request(org, 'GET', `/Users?filter=${encodeURIComponent(filter)}`);
        expect(res.body.Resources?.map((r) => r.id), filter).toEqual([id]);
      }
    });
    expect(lookupRequests).toEqual([]);

    const duplicate = await h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: 'grace@cache.example' });
    expect(duplicate.status).toBe(409);

    const renamed = await h.request(org, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'userName', value: 'grace.hopper@cache.example' }] });
    expect(renamed.status).toBe(200);
    expect((await h.request(org, 'GET', `/Users?filter=${encodeURIComponent('userName eq "grace@cache.example"')}`)).body.totalResults).toBe(0);
    expect((await h.request(org, 'GET', `/Users?filter=${encodeURIComponent('userName eq "grace.hopper@cache.example"')}`)).body.totalResults).toBe(1);

    expect((await h.request(org, 'DELETE', `/Users/${id}`)).status).toBe(204);
    expect((await h.request(org, 'GET', `/Users?filter=${encodeURIComponent('externalId eq "g-1"')}`)).body.totalResults).toBe(0);
  });

  it('serves a login\'s groups from the watch and follows every group change, with no request per login', async () => {
    const user = await h.request(org, 'POST', '/Users', { schemas: [CORE_USER], userName: 'lin@cache.example' });
    const uid = user.body.id!;
    const group = await h.request(org, 'POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'Engineering', members: [{ value: uid }] });
    expect(group.status).toBe(201);
    const gid = group.body.id!;

    const loginRequests: RequestEvent[] = [];
    const client = await KubeClient.create(await loadCredentials(kubeconfig), { userAgent: 'gatehouse-tests', onRequest: (e) => loginRequests.push(e) });
    const groups = new ManagedGroupCache(client, pino({ level: 'silent' }));
    try {
      groups.start();
      expect(await groups.waitForSync(30_000)).toBe(true);
      const at = (names: string[]) => async () => JSON.stringify(await groupsOfUser(groups, org.namespace, uid)) === JSON.stringify(names);

      const perLogin = await requestsDuring(loginRequests, async () => {
        await waitFor('the member in Engineering', at(['Engineering']));
        for (let i = 0; i < 20; i++) expect(await groupsOfUser(groups, org.namespace, uid)).toEqual(['Engineering']);
        expect(await groupsOfUser(groups, org.namespace, 'someone-else')).toEqual([]);

        await h.request(org, 'PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Platform' }] });
        await waitFor('the rename at the next login', at(['Platform']));
        const second = await h.request(org, 'POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'Admins', members: [{ value: uid }] });
        await waitFor('the new group at the next login', at(['Admins', 'Platform']));
        await h.request(org, 'PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${uid}"]` }] });
        await waitFor('the removal at the next login', at(['Admins']));
        await h.request(org, 'DELETE', `/Groups/${second.body.id!}`);
        await waitFor('the deleted group gone at the next login', at([]));
      });
      expect(perLogin).toEqual([]);
    } finally {
      await groups.close();
      await client.close();
    }
  });
});
