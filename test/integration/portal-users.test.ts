// The users screens against a real API server: the CSV import checks every row (schema, duplicates,
// the server's dry run) and writes nothing unless all pass; the list searches and pages; a user's
// edit is a server-side apply from the version shown that keeps the portal's other fields and
// reports, never takes, a field another manager holds; GitOps-managed organizations stay read-only.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ManagedUser } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { GITOPS_ANNOTATION } from '../../portal/organization.ts';
import { userNameForEmail } from '../../sp-server/scim/labels.ts';
import { createNamespace, crPath, deleteNamespace, getUser, listUsers, MERGE_PATCH, testClient } from '../support/kube.ts';
import { signInWithSetupLink, startTestPortal, type PortalClient, type TestPortal } from '../support/portal.ts';

const kubeconfig = inject('kubeconfig');
const suffix = randomBytes(3).toString('hex');
const home = `pu-home-${suffix}`;
const org = `pu-org-${suffix}`;
const gitops = `pu-gitops-${suffix}`;
const DOMAIN = 'users.example.com';

let kube: KubeClient;
let portal: TestPortal;
let admin: PortalClient;

const csvFile = (content: string) => ({ field: 'csv', name: 'users.csv', type: 'text/csv', content });
const importCSV = async (client: PortalClient, content: string) => {
  await client.get('/users/import');
  return client.upload('/users/import', {}, csvFile(content));
};

interface EventItem {
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string };
}
const events = async (ns: string) => (await kube.call<{ items: EventItem[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items;

beforeAll(async () => {
  kube = await testClient(kubeconfig);
  for (const ns of [home, org, gitops]) await createNamespace(kube, ns);
  await kube.call('PATCH', `/api/v1/namespaces/${gitops}`, { body: { metadata: { annotations: { [GITOPS_ANNOTATION]: 'true' } } }, contentType: MERGE_PATCH });
  portal = await startTestPortal({ kube, gatehouseNamespace: home });
  admin = await signInWithSetupLink(portal, org);
}, 60_000);

afterAll(async () => {
  await portal?.close();
  for (const ns of [home, org, gitops]) await deleteNamespace(kube, ns).catch(() => {});
  await kube?.close();
});

describe('CSV import', () => {
  it('lists every bad row with its line number and creates nothing', async () => {
    const bad = [
      'email,displayName,roles,sso,active',
      `ok@${DOMAIN},Okay,viewer,Inherit,true`,
      'not-an-email,Broken,,,',
      `r@${DOMAIN},Role,Admin;ok,,`,
      `s@${DOMAIN},Sso,,Sometimes,`,
      `OK@${DOMAIN.toUpperCase()},Again,,,`,
      `a@${DOMAIN},Active,,,maybe`,
      `x@${DOMAIN},Too,many,values,true,extra`,
    ].join('\n');
    const res = await importCSV(admin, bad);
    expect(res.status).toBe(422);
    expect(res.body).toContain('Nothing was imported');
    const cells = [...res.body.matchAll(/<tr><td>(\d+)<\/td><td>[^<]*<\/td><td>([^<]*)<\/td><\/tr>/g)].map((m) => [Number(m[1]), m[2]]);
    expect([...new Set(cells.map(([line]) => line))]).toEqual([3, 4, 5, 6, 7, 8]);
    expect(cells.find(([l]) => l === 3)?.[1]).toContain('email is not a valid email address');
    expect(cells.find(([l]) => l === 4)?.[1]).toContain('roles: &quot;Admin&quot; is not a valid role');
    expect(cells.find(([l]) => l === 5)?.[1]).toContain('Sometimes');
    expect(cells.find(([l]) => l === 6)?.[1]).toContain('already appears on line 2');
    expect(cells.find(([l]) => l === 7)?.[1]).toContain('is not true or false');
    expect(cells.find(([l]) => l === 8)?.[1]).toContain('has 6 values');
    expect(await listUsers(kube, org)).toEqual([]);
  });

  it('refuses a file whose header is wrong, with the line', async () => {
    const res = await importCSV(admin, `mail,name\nsomeone@${DOMAIN},Someone\n`);
    expect(res.status).toBe(422);
    expect(res.body).toMatch(/<td>1<\/td><td><\/td><td>unknown column &quot;mail&quot;/);
    expect(await listUsers(kube, org)).toEqual([]);
  });

  it('changes nothing when the server dry run refuses one row (a field another manager holds)', async () => {
    // A user the directory created with its own field manager: the portal may not change its roles.
    const held = `held@${DOMAIN}`;
    await kube.call('POST', crPath('managedusers', org), { body: { apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'ManagedUser', metadata: { name: 'held' }, spec: { email: held, roles: ['directory'] } }, query: { fieldManager: 'directory-sync' } });
    const res = await importCSV(admin, `email,roles\nfresh@${DOMAIN},viewer\n${held},auditor\n`);
    expect(res.status).toBe(422);
    expect(res.body).toContain('the cluster would refuse 1 row');
    expect(res.body).toMatch(/<td>3<\/td><td>held@[^<]+<\/td><td>[^<]*directory-sync/);
    const names = (await listUsers(kube, org)).map((u) => u.metadata.name);
    expect(names).toEqual(['held']);
    await kube.call('DELETE', crPath('managedusers', org, 'held'));
  });

  it('creates every row of a good file with names derived from the email, and one Event', async () => {
    const rows = Array.from({ length: 55 }, (_, i) => `user${String(i).padStart(2, '0')}@${DOMAIN},User ${i},${i % 2 ? 'viewer;billing:read' : ''},${i === 3 ? 'Disabled' : ''},${i === 4 ? 'false' : ''}`);
    const res = await importCSV(admin, ['email,displayName,roles,sso,active', ...rows].join('\r\n'));
    expect(res.status, res.body.slice(0, 2000)).toBe(200);
    expect(res.body).toContain('Imported all 55 rows');
    const users = await listUsers(kube, org);
    expect(users).toHaveLength(55);
    const u1 = users.find((u) => u.spec.email === `user01@${DOMAIN}`) as ManagedUser;
    expect(u1.metadata.name).toBe(userNameForEmail(`user01@${DOMAIN}`));
    expect(u1.spec).toMatchObject({ displayName: 'User 1', roles: expect.arrayContaining(['viewer', 'billing:read']), sso: 'Inherit', active: true });
    expect(users.find((u) => u.spec.email === `user03@${DOMAIN}`)?.spec.sso).toBe('Disabled');
    expect(users.find((u) => u.spec.email === `user04@${DOMAIN}`)?.spec.active).toBe(false);
    const imported = (await events(org)).filter((e) => e.reason === 'UsersImported');
    expect(imported).toHaveLength(1);
    expect(imported[0]?.message).toContain('55 created, 0 updated');
    expect((await events(org)).filter((e) => e.involvedObject.kind === 'ManagedUser')).toEqual([]);
  });

  it('updates existing users by email, says which, and keeps their other fields', async () => {
    const res = await importCSV(admin, `email,roles\nUSER01@${DOMAIN.toUpperCase()},auditor\nnew@${DOMAIN},\n`);
    expect(res.status, res.body.slice(0, 2000)).toBe(200);
    expect(res.body).toContain('1 user created, 1 updated');
    expect(res.body).toContain(`Updated existing users: line 2 (USER01@${DOMAIN.toUpperCase()})`);
    const u1 = await getUser(kube, org, userNameForEmail(`user01@${DOMAIN}`));
    expect(u1.spec).toMatchObject({ email: `user01@${DOMAIN}`, displayName: 'User 1', roles: ['auditor'] });
  });
});

describe('users list', () => {
  it('searches email and name case-insensitively and pages by 50', async () => {
    const first = await admin.get('/users');
    expect(first.status).toBe(200);
    expect(first.body).toContain('56 users');
    expect(first.body).toContain('Page 1 of 2');
    expect([...first.body.matchAll(/<td><a href="\/users\/[a-z0-9-]+">/g)]).toHaveLength(50);
    const second = await admin.get('/users?page=2');
    expect([...second.body.matchAll(/<td><a href="\/users\/[a-z0-9-]+">/g)]).toHaveLength(6);
    const byName = await admin.get('/users?q=uSeR%201');
    // "User 1" and "User 10".."User 19" by name, user1x@ by email.
    expect(byName.body).toContain('11 users matching');
    const byEmail = await admin.get(`/users?q=USER42%40${DOMAIN}`);
    expect(byEmail.body).toContain('1 user matching');
    expect(byEmail.body).toContain(`href="/users/${userNameForEmail(`user42@${DOMAIN}`)}"`);
    expect((await admin.get('/users?q=nobody-here')).body).toContain('No users match');
  });
});

describe('one user', () => {
  const name = userNameForEmail(`user02@${DOMAIN}`);

  it('saves SSO, roles and active from the version shown, keeps the other fields, and records an Event', async () => {
    const page = await admin.get(`/users/${name}`);
    expect(page.body).toContain('data-confirm=');
    const generation = /name="generation" value="(\d+)"/.exec(page.body)?.[1] as string;
    const res = await admin.post(`/users/${name}`, { sso: 'Enabled', roles: 'admin, billing:read', generation });
    expect(res.status, res.body.slice(0, 1500)).toBe(303);
    const u = await getUser(kube, org, name);
    expect(u.spec).toMatchObject({ email: `user02@${DOMAIN}`, displayName: 'User 2', sso: 'Enabled', active: false });
    expect([...(u.spec.roles ?? [])].sort()).toEqual(['admin', 'billing:read']);
    const ev = (await events(org)).find((e) => e.reason === 'UserUpdated' && e.involvedObject.name === name);
    expect(ev?.message).toMatch(/single sign-on Enabled; roles admin, billing:read; deactivated .*by setup link/);
  });

  it('shows a bad role next to the field and changes nothing', async () => {
    const before = await getUser(kube, org, name);
    const res = await admin.post(`/users/${name}`, { sso: 'Enabled', roles: 'admin, Not A Role', active: 'true', generation: String(before.metadata.generation) });
    expect(res.status).toBe(422);
    expect(res.body).toMatch(/aria-invalid="true" aria-describedby="roles-hint roles-error"/);
    expect(res.body).toMatch(/id="roles-error">Not a valid role: Not A Role/);
    expect((await getUser(kube, org, name)).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('refuses an edit made from a stale page, but not one after a mere status or label write', async () => {
    const shown = String((await getUser(kube, org, name)).metadata.generation);
    await kube.call('PATCH', crPath('managedusers', org, name), { body: { metadata: { labels: { touched: 'yes' } } }, contentType: MERGE_PATCH });
    const unaffected = await admin.post(`/users/${name}`, { sso: 'Enabled', roles: 'admin, billing:read, auditor', generation: shown });
    expect(unaffected.status, unaffected.body.slice(0, 1500)).toBe(303);
    const stale = String((await getUser(kube, org, name)).metadata.generation);
    await kube.call('PATCH', crPath('managedusers', org, name), { body: { spec: { displayName: 'Renamed elsewhere' } }, contentType: MERGE_PATCH });
    const res = await admin.post(`/users/${name}`, { sso: 'Inherit', roles: 'admin', active: 'true', generation: stale });
    expect(res.status).toBe(409);
    expect(res.body).toContain('changed by someone else');
    expect((await getUser(kube, org, name)).spec.sso).toBe('Enabled');
  });

  it('reports a field another manager holds (a directory-provisioned user) and never forces it', async () => {
    await kube.call('POST', crPath('managedusers', org), { body: { apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'ManagedUser', metadata: { name: 'synced' }, spec: { email: `synced@${DOMAIN}`, roles: ['directory'], active: true } }, query: { fieldManager: 'directory-sync' } });
    const rv = (await getUser(kube, org, 'synced')).metadata.resourceVersion as string;
    const generation = String((await getUser(kube, org, 'synced')).metadata.generation);
    const deactivate = await admin.post('/users/synced', { sso: 'Inherit', roles: 'directory', generation });
    expect(deactivate.status).toBe(409);
    expect(deactivate.body).toContain('directory-sync');
    expect(deactivate.body).toMatch(/id="active-error">[^<]*directory-sync/);
    // A set element held by the directory cannot be dropped either: reported, not silently kept.
    const roles = await admin.post('/users/synced', { sso: 'Inherit', roles: 'auditor', active: 'true', generation });
    expect(roles.status).toBe(409);
    expect(roles.body).toMatch(/id="roles-error">[^<]*directory-sync/);
    const u = await getUser(kube, org, 'synced');
    expect(u.spec).toMatchObject({ roles: ['directory'], active: true });
    expect(u.metadata.resourceVersion).toBe(rv);
  });
});

describe('a GitOps-managed organization', () => {
  it('imports nothing and saves nothing', async () => {
    await kube.call('POST', crPath('managedusers', gitops), { body: { apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'ManagedUser', metadata: { name: 'git' }, spec: { email: `git@${DOMAIN}` } } });
    const viewer = await signInWithSetupLink(portal, gitops);
    const res = await importCSV(viewer, `email\nnew@${DOMAIN}\n`);
    expect(res.status).toBe(403);
    expect(res.body).toContain('GitOps');
    const page = await viewer.get('/users/git');
    expect(page.body).toMatch(/<button type="submit" disabled>Save changes/);
    const generation = /name="generation" value="(\d+)"/.exec(page.body)?.[1] as string;
    expect((await viewer.post('/users/git', { sso: 'Disabled', roles: '', active: 'true', generation })).status).toBe(403);
    expect((await listUsers(kube, gitops)).map((u) => [u.metadata.name, u.spec.sso])).toEqual([['git', 'Inherit']]);
  });
});
