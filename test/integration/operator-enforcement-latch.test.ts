// Enforcement latches, end to end with the real processes (control plane, operator, sp-server):
// once a domain is enforced, a failed test attempt, an expired IdP certificate, edits of the
// profile and an operator restart never let a password through — polled every ~20 ms on the
// login-methods API — while the profile reports Degraded. Only the spec lifts enforcement:
// removing the domain, or deleting the profile through its finalizer.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENFORCEMENT_FINALIZER, type SSOProfile } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { freePort } from '../controlplane/controlplane.ts';
import { DnsServer } from '../support/dns-server.ts';
import { idpKeyPair } from '../support/idp-fixtures.ts';
import { condition, create, createNamespace, crPath, deleteNamespaceContents, getIfExists, getProfile, getUser, MERGE_PATCH, testClient } from '../support/kube.ts';
import { browserGet, browserPostForm, CookieJar, loginMethodsOf, readAuthnRequest, type LoginMethods } from '../support/login-driver.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { verifyDomain } from '../support/organization.ts';
import { buildResponse, TEST_IDP_ENTITY_ID, testIdpKeys, untrustedKeys, type TestKeyPair } from '../support/saml-fixtures.ts';
import { SpServerProcess } from '../support/sp-server-process.ts';
import { waitFor } from '../support/wait.ts';

const kubeconfig = inject('kubeconfig');
const system = 'gh-latch-system';
const org = 'gh-latch-org';
const domain = 'latch.example';
const ADMIN = `admin@${domain}`;
const ALICE = `alice@${domain}`;


describe('enforcement latches', () => {
  let client: KubeClient;
  let dns: DnsServer;
  let op: OperatorProcess;
  let sp: SpServerProcess;
  let base = '';

  const startOperator = () => OperatorProcess.start({ kubeconfig, namespace: system, watchNamespaces: [org], spPublicUrl: base, dnsServers: [dns.address] });
  const loginMethods = (email = ALICE): Promise<LoginMethods> => loginMethodsOf(sp.url, email);
  const passwordAllowed = async (email = ALICE) => (await loginMethods(email)).methods.includes('password');
  const ssoOffered = async () => (await loginMethods()).methods.includes('sso');
  const patchProfile = (body: Record<string, unknown>) => client.call('PATCH', crPath('ssoprofiles', org, 'okta'), { contentType: MERGE_PATCH, body });
  const profileState = async () => JSON.stringify((await getIfExists<SSOProfile>(client, crPath('ssoprofiles', org, 'okta')))?.status ?? 'gone');
  const profileWhere = (what: string, ok: (p: SSOProfile) => boolean, timeoutMs = 30_000) =>
    waitFor(what, async () => {
      const p = await getProfile(client, org, 'okta');
      return ok(p) ? p : undefined;
    }, timeoutMs, profileState);
  const eventsOf = async (name: string) =>
    (await client.call<{ items: { reason: string; type: string; message: string }[] }>('GET', `/api/v1/namespaces/${org}/events`, { query: { fieldSelector: `involvedObject.name=${name}` } })).items;

  /** The test link, followed the way a browser does, answered by an IdP signing with `signer`. */
  async function testLogin(signer: TestKeyPair): Promise<Response> {
    const url = (await getProfile(client, org, 'okta')).status?.test?.url ?? '';
    const jar = new CookieJar();
    const started = await browserGet(url, jar);
    expect(started.status).toBe(302);
    const { id } = readAuthnRequest(started.headers.get('location') as string);
    const acs = `${base}/saml/${org}/okta/acs`;
    const response = await buildResponse({ signer, inResponseTo: id, destination: acs, recipient: acs, audience: `${base}/saml/${org}/okta/metadata`, nameID: ADMIN });
    return browserPostForm(acs, { SAMLResponse: response.base64 }, jar);
  }

  /** Asks login-methods for ALICE every ~20 ms until stopped; keeps every answer that let a password through. */
  function watchPasswords() {
    const leaks: string[] = [];
    let polls = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        const m = await loginMethods().catch((err: unknown) => ({ error: String(err) }));
        polls++;
        if (!('methods' in m) || m.methods.includes('password')) leaks.push(JSON.stringify(m));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    return {
      leaks,
      stop: async () => {
        running = false;
        await loop;
        return polls;
      },
    };
  }

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [system, org]) await createNamespace(client, ns);
    dns = await DnsServer.start();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    op = await startOperator();
    await verifyDomain(client, dns, org, domain);
    await create(client, 'ssoprofiles', org, {
      kind: 'SSOProfile',
      metadata: { name: 'okta' },
      spec: {
        displayName: 'Okta',
        domains: [domain],
        idp: { entityID: TEST_IDP_ENTITY_ID, ssoURL: 'https://idp.acme.test/sso', certificates: [testIdpKeys().certificatePem] },
        test: { email: ADMIN },
      },
    });
    for (const [name, email] of [['admin', ADMIN], ['alice', ALICE]] as const) await create(client, 'managedusers', org, { kind: 'ManagedUser', metadata: { name }, spec: { email } });
    sp = await SpServerProcess.start({ kubeconfig, configNamespace: system, port, publicURL: base, jitProvisioning: false, clients: [{ client_id: 'console', redirect_uris: ['http://127.0.0.1:9/callback'] }] });
    await waitFor('alice offered SSO', async () => ((await ssoOffered()) ? true : undefined), 30_000);
  }, 120_000);

  afterAll(async () => {
    await sp?.stop();
    await op?.stop();
    await dns?.stop();
    if (client) for (const ns of [org, system]) await deleteNamespaceContents(client, ns);
  });

  it('holds enforcement through a failed test, an expired certificate, edits and a restart; lifting the domain brings passwords back', { timeout: 180_000 }, async () => {
    const passed = await testLogin(testIdpKeys());
    expect(passed.status, await passed.clone().text()).toBe(200);
    await profileWhere('Tested', (p) => condition(p, 'Tested')?.status === 'True');
    await patchProfile({ spec: { enforcement: { domains: [domain], exempt: [ADMIN] } } });
    const enforced = await profileWhere('Enforced', (p) => p.status?.enforcement?.phase === 'Enforced' && (p.metadata.finalizers ?? []).includes(ENFORCEMENT_FINALIZER));
    expect(enforced.status?.enforcement?.latchedDomains).toEqual([domain]);
    expect(enforced.status?.test?.lastPassed).toMatchObject({ email: ADMIN });
    await waitFor('alice enforced at the sp-server', async () => ((await passwordAllowed()) ? undefined : true), 15_000);
    expect(await passwordAllowed(ADMIN)).toBe(true);

    const watch = watchPasswords();
    let polls = 0;
    try {
      // (a) A failing test attempt through the real test link: signed by a key the profile does not trust.
      const failed = await testLogin(untrustedKeys());
      expect(failed.status).toBe(400);
      const afterFailure = await profileWhere('Degraded TestFailed', (p) => condition(p, 'Degraded')?.reason === 'TestFailed' && p.status?.enforcement?.phase === 'Enforced');
      expect(afterFailure.status?.test).toMatchObject({ result: 'Failed', errorCode: 'UNTRUSTED_CERTIFICATE', lastPassed: enforced.status?.test?.lastPassed });
      expect(afterFailure.status?.enforcement).toMatchObject({ phase: 'Enforced', latchedDomains: [domain] });
      expect(condition(afterFailure, 'Degraded')).toMatchObject({ status: 'True' });
      expect(condition(afterFailure, 'Tested')).toMatchObject({ status: 'True', reason: 'LatestAttemptFailed' });
      expect(condition(afterFailure, 'Ready')).toMatchObject({ status: 'False', reason: 'EnforcementDegraded' });
      await waitFor('the degraded gauge', async () => ((await op.metric('gatehouse_operator_enforcement_degraded', { namespace: org, profile: 'okta' })) === 1 ? true : undefined), 10_000);
      await waitFor('a Warning Event', async () => ((await eventsOf('okta')).some((e) => e.type === 'Warning' && e.reason === 'EnforcementDegraded') ? true : undefined), 10_000);

      // (b) The IdP certificate replaced by an expired one: the profile leaves the SP config.
      await patchProfile({ spec: { idp: { certificates: [idpKeyPair(-2, 'idp.acme.test').certificatePem] } } });
      const expired = await profileWhere('Degraded CertificateExpired', (p) => condition(p, 'Degraded')?.reason === 'CertificateExpired' && p.status?.observedGeneration === p.metadata.generation && p.status?.enforcement?.phase === 'Enforced');
      expect(expired.status?.enforcement).toMatchObject({ phase: 'Enforced', latchedDomains: [domain] });
      expect(condition(expired, 'ConfigRendered')).toMatchObject({ status: 'False' });
      const unavailable = await waitFor('SSO unavailable, password still refused', async () => {
        const m = await loginMethods();
        return m.methods.includes('sso') ? undefined : m;
      }, 15_000);
      // No password, and the application can tell its user to come back later.
      expect(unavailable).toEqual({ email: ALICE, methods: [], ssoUnavailable: true });
      await waitFor('alice told why', async () => ((await getUser(client, org, 'alice')).status?.sso?.available === false ? true : undefined), 15_000);
      expect((await getUser(client, org, 'alice')).status?.sso).toMatchObject({ enforced: true, available: false, reason: 'DomainEnforced', profile: 'okta', message: expect.stringContaining('SSO sign-in is unavailable') });
      // An SSO login to the profile now fails with its refusal code.
      const acs = `${base}/saml/${org}/okta/acs`;
      const refused = await browserPostForm(acs, { SAMLResponse: (await buildResponse({ destination: acs, recipient: acs, nameID: ALICE })).base64 }, new CookieJar());
      expect(refused.status).toBe(404);
      expect(await refused.text()).toContain('PROFILE_NOT_FOUND');
      await patchProfile({ spec: { idp: { certificates: [testIdpKeys().certificatePem] } } });

      // (c) Edits, one after another, and an operator restart in the middle of them.
      for (let i = 0; i < 12; i++) {
        await patchProfile({ spec: i % 2 === 0 ? { displayName: `Okta ${i}` } : { allowedClockSkew: `${60 + i}s` } });
        await new Promise((r) => setTimeout(r, 150));
        if (i === 5) {
          await op.stop();
          op = await startOperator();
        }
      }
      const settled = await profileWhere('edits observed', (p) => p.status?.observedGeneration === p.metadata.generation && condition(p, 'Degraded')?.reason === 'TestFailed' && p.status?.enforcement?.phase === 'Enforced');
      expect(settled.status?.enforcement).toMatchObject({ phase: 'Enforced', latchedDomains: [domain] });
      await waitFor('SSO available again', async () => ((await ssoOffered()) ? true : undefined), 15_000);
    } finally {
      polls = await watch.stop();
    }
    expect(watch.leaks).toEqual([]);
    expect(polls).toBeGreaterThan(100);

    // The one way to lift it: the spec drops the domain.
    await patchProfile({ spec: { enforcement: null } });
    await waitFor('passwords back for alice', async () => ((await passwordAllowed()) ? true : undefined), 15_000);
    const lifted = await profileWhere('finalizer released', (p) => !(p.metadata.finalizers ?? []).includes(ENFORCEMENT_FINALIZER) && p.status?.enforcement?.phase === 'NotRequested');
    expect(condition(lifted, 'Degraded')).toBeUndefined();
    expect((await eventsOf('okta')).some((e) => e.reason === 'EnforcementLifted' && e.message.includes('removed from spec.enforcement.domains'))).toBe(true);
  });

  it('deleting an enforced profile un-enforces its users through the finalizer, then the object goes', { timeout: 60_000 }, async () => {
    await patchProfile({ spec: { enforcement: { domains: [domain], exempt: [ADMIN] } } });
    await profileWhere('enforced again, on the last passed test', (p) => p.status?.enforcement?.phase === 'Enforced' && (p.metadata.finalizers ?? []).includes(ENFORCEMENT_FINALIZER));
    await waitFor('alice enforced', async () => ((await passwordAllowed()) ? undefined : true), 15_000);
    await client.call('DELETE', crPath('ssoprofiles', org, 'okta'));
    await waitFor('the profile gone', async () => ((await getIfExists(client, crPath('ssoprofiles', org, 'okta'))) === undefined ? true : undefined), 20_000, profileState);
    expect((await getUser(client, org, 'alice')).status?.sso).toMatchObject({ enforced: false, reason: 'NoProfile' });
    await waitFor('passwords back for alice', async () => ((await passwordAllowed()) ? true : undefined), 15_000);
    expect((await eventsOf('okta')).some((e) => e.reason === 'EnforcementLifted' && e.message.includes('being deleted'))).toBe(true);
  });
});
