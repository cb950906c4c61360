// The Sign-in activity screen against a real API server with a fake activity source: it asks
// for the session's own organization only, shows each entry (escaped) with its code and advice,
// an empty state, and a notice — never an error page — when the sp-server is not there.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubeClient } from '../../kube/client.ts';
import type { ActivityEntry, ActivitySource } from '../../portal/context.ts';
import { createNamespace, deleteNamespace, testClient } from '../support/kube.ts';
import { signInWithSetupLink, startTestPortal, type TestPortal } from '../support/portal.ts';

const kubeconfig = inject('kubeconfig');
const suffix = randomBytes(3).toString('hex');
const home = `activity-home-${suffix}`;
const org = `activity-org-${suffix}`;

class FakeActivity implements ActivitySource {
  asked: Array<{ namespace: string; limit: number }> = [];
  entries: ActivityEntry[] = [];
  failing = false;
  async latest(namespace: string, limit: number): Promise<ActivityEntry[]> {
    this.asked.push({ namespace, limit });
    if (this.failing) throw new Error('connect ECONNREFUSED');
    return this.entries;
  }
}

let kube: KubeClient;
const activity = new FakeActivity();
let withActivity: TestPortal;
let withoutActivity: TestPortal;

beforeAll(async () => {
  kube = await testClient(kubeconfig);
  for (const ns of [home, org]) await createNamespace(kube, ns);
  withActivity = await startTestPortal({ kube, gatehouseNamespace: home, activity });
  withoutActivity = await startTestPortal({ kube, gatehouseNamespace: home });
}, 60_000);

afterAll(async () => {
  await withActivity?.close();
  await withoutActivity?.close();
  for (const ns of [home, org]) await deleteNamespace(kube, ns).catch(() => {});
  await kube?.close();
});

describe('sign-in activity screen', () => {
  it('shows the organization’s sign-ins and refusals with code and advice, escaped', async () => {
    activity.failing = false;
    activity.entries = [
      { time: new Date(Date.now() - 90_000).toISOString(), outcome: 'refused', email: 'eve@<b>globex</b>.com', profile: 'okta', protocol: 'saml', code: 'USER_OTHER_ORGANIZATION', message: 'eve belongs to another organization', advice: 'Remove eve from the Okta app assignment.' },
      { time: new Date(Date.now() - 600_000).toISOString(), outcome: 'signed-in', email: 'bob@acme.com', profile: 'okta', protocol: 'saml' },
      { time: new Date().toISOString(), outcome: 'test-passed', email: 'alice@acme.com', protocol: 'oidc' },
    ];
    activity.asked = [];
    const admin = await signInWithSetupLink(withActivity, org);
    const page = await admin.get('/activity');
    expect(page.status).toBe(200);
    expect(activity.asked).toEqual([{ namespace: org, limit: 100 }]);
    for (const text of ['USER_OTHER_ORGANIZATION', 'Remove eve from the Okta app assignment.', 'bob@acme.com', 'Refused', 'Signed in', 'Test passed', '<th scope="col">Advice</th>']) expect(page.body).toContain(text);
    expect(page.body).toContain('eve@&lt;b&gt;globex&lt;/b&gt;.com');
    expect(page.body).not.toContain('<b>globex</b>');
    expect(page.body).not.toContain('No sign-ins yet');
    // The navigation marks the screen.
    expect(page.body).toMatch(/<a href="\/activity"[^>]*aria-current="page"/);
  });

  it('says when there is nothing yet', async () => {
    activity.failing = false;
    activity.entries = [];
    const page = await (await signInWithSetupLink(withActivity, org)).get('/activity');
    expect(page.status).toBe(200);
    expect(page.body).toContain('No sign-ins yet');
    expect(page.body).not.toContain('<table');
  });

  it('shows a notice, not an error page, when the sp-server does not answer', async () => {
    activity.failing = true;
    const page = await (await signInWithSetupLink(withActivity, org)).get('/activity');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Sign-in activity is unavailable right now');
    expect(page.body).not.toContain('No sign-ins yet');
  });

  it('shows a notice when the portal has no activity source configured', async () => {
    const page = await (await signInWithSetupLink(withoutActivity, org)).get('/activity');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Sign-in activity is unavailable');
  });

  it('is behind a session', async () => {
    const res = await fetch(`${withActivity.url}/activity`, { redirect: 'manual' });
    expect(res.status).toBe(303);
  });
});
