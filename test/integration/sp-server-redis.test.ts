// Two sp-server processes sharing one Redis: a login that starts on one finishes on the other,
// and an assertion or code used on one is refused by the other.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SPConfig } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { freePort } from '../controlplane/controlplane.ts';
import { applyManagedUser, createNamespace, deleteNamespaceContents, testClient } from '../support/kube.ts';
import { browserGet, browserPostForm, buildAuthorize, CookieJar, discoverClient, readAuthnRequest, redeem, type AppClient } from '../support/login-driver.ts';
import { RedisServer } from '../support/redis-server.ts';
import { buildResponse, testProfile } from '../support/saml-fixtures.ts';
import { SpServerProcess, testSigningKeyPems } from '../support/sp-server-process.ts';

const kubeconfig = inject('kubeconfig');
const ORG = `redis-acme-${randomBytes(3).toString('hex')}`;
const REDIRECT = 'http://127.0.0.1:1/callback';

describe('two sp-server replicas on one Redis', () => {
  let k: KubeClient;
  let redis: RedisServer;
  let a: SpServerProcess;
  let b: SpServerProcess;
  let app: AppClient;
  let dir: string;
  let issuer: string;

  beforeAll(async () => {
    k = await testClient(kubeconfig);
    await createNamespace(k, ORG);
    await applyManagedUser(k, ORG, { name: 'alice', email: 'alice@acme.test' });
    redis = await RedisServer.start();
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-test-'));
    const portA = await freePort();
    // Both replicas sit behind one public URL (replica A's address stands in for the load balancer).
    issuer = `http://127.0.0.1:${portA}`;
    const config: SPConfig = {
      formatVersion: 1,
      organizations: [
        {
          namespace: ORG,
          verifiedDomains: ['acme.test'],
          profiles: [testProfile({ sp: { ...testProfile().sp, entityID: `${issuer}/saml/${ORG}/okta`, acsURL: `${issuer}/saml/${ORG}/okta/acs`, metadataURL: `${issuer}/saml/${ORG}/okta/metadata` } })],
        },
      ],
    };
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config));
    // Both replicas hold the same keys, as the chart's Secret gives them.
    const signingKeys = testSigningKeyPems();
    const common = { kubeconfig, configFile, redisURL: redis.url, signingKeys, publicURL: issuer, clients: [{ client_id: 'console', redirect_uris: [REDIRECT] }] };
    [a, b] = await Promise.all([SpServerProcess.start({ ...common, port: portA }), SpServerProcess.start(common)]);
    app = await discoverClient(issuer, 'console', REDIRECT);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (k) {
      await deleteNamespaceContents(k, ORG);
      await k.close();
    }
  });

  const respond = (id: string) => buildResponse({ inResponseTo: id, destination: `${issuer}/saml/${ORG}/okta/acs`, recipient: `${issuer}/saml/${ORG}/okta/acs`, audience: `${issuer}/saml/${ORG}/okta` });

  it('finishes on B a login started on A, and refuses on A the assertion B accepted', async () => {
    const jar = new CookieJar();
    const started = await buildAuthorize(app, 'alice@acme.test');
    const res = await browserGet(started.authorizeURL, jar); // issuer = replica A
    expect(res.status).toBe(302);
    const { id } = readAuthnRequest(res.headers.get('location') as string);
    const saml = await respond(id);
    const onB = await browserPostForm(`${b.url}/saml/${ORG}/okta/acs`, { SAMLResponse: saml.base64 }, jar);
    expect(onB.status, await onB.clone().text()).toBe(303);
    const callback = onB.headers.get('location') as string;

    const onA = await browserPostForm(`${a.url}/saml/${ORG}/okta/acs`, { SAMLResponse: saml.base64 }, jar);
    expect(onA.status).toBe(400);
    expect(await onA.text()).toContain('ASSERTION_REPLAYED');

    // The code issued by B is redeemed at A (the issuer's token endpoint)…
    const { claims } = await redeem(app, callback, started);
    expect(claims.email).toBe('alice@acme.test');
    // …and is then spent on B too.
    const code = new URL(callback).searchParams.get('code') as string;
    const again = await fetch(`${b.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'console', redirect_uri: REDIRECT, code_verifier: started.verifier }).toString(),
    });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('reports Redis in readiness', async () => {
    const ready = (await (await fetch(`${b.url}/readyz`)).json()) as { checks: Record<string, boolean> };
    expect(ready.checks.store).toBe(true);
  });
});
