// buildApp's surfaces side by side through app.inject: each answers failures in its own shape,
// SCIM is one of them (with the app's kube client), and the metrics listener serves every
// surface's metrics from the one registry (the public app has no /metrics).
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeApiServer, type FakeApiServer } from '../test/support/fake-api-server.ts';
import { acmeConfig, APP_CLIENT, user } from '../test/support/sp-app.ts';
import { buildApp } from './app.ts';
import { ConfigStore } from './config/store.ts';
import { startMetricsListener, type MetricsListener } from './metrics-listener.ts';
import { createMetrics } from './metrics.ts';
import { generateSigningKeys } from './oauth/keys.ts';
import { MemoryStore } from './state/store.ts';
import { StaticUserDirectory } from './users/directory.ts';

const BASE = 'http://sp.test';
const SCIM_TOKEN = 'scim-token-of-acme-0123456789';

describe('the app\'s surfaces', () => {
  let api: FakeApiServer;
  let app: FastifyInstance;
  let metricsListener: MetricsListener;
  beforeAll(async () => {
    api = await fakeApiServer((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}'));
    const metrics = createMetrics(true);
    metricsListener = await startMetricsListener(metrics.registry, '127.0.0.1', 0);
    const config = new ConfigStore(pino({ level: 'silent' }), metrics);
    const rendered = acmeConfig(BASE);
    rendered.organizations[0]!.scim = { tokenSHA256: [createHash('sha256').update(SCIM_TOKEN).digest('hex')] };
    config.apply(rendered);
    app = await buildApp({
      publicURL: BASE,
      config,
      users: new StaticUserDirectory([user('acme', 'alice@acme.test')]),
      clients: [APP_CLIENT],
      signingKeys: await generateSigningKeys(),
      store: new MemoryStore(),
      metrics,
      kube: api.client,
      scim: true,
      caches: { config: { healthy: true }, managedusers: { healthy: false } },
    });
  });
  afterAll(async () => {
    await app?.close();
    await api?.close();
    await metricsListener?.close();
  });

  it('answers bad API requests in JSON and bad browser requests with a page', async () => {
    const methods = await app.inject({ method: 'GET', url: '/api/v1/login-methods?email=nope&client_id=console' });
    expect(methods.statusCode).toBe(400);
    expect(methods.json()).toEqual({ error: 'invalid_request', error_description: 'invalid parameters' });
    const token = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'text/xml' }, payload: '<x/>' });
    expect(token.statusCode).toBe(415);
    expect(token.json()).toEqual({ error: 'invalid_request' });
    // A broken percent-escape in Basic credentials is the client's error (found by fuzzing: it was a 500).
    const basic = await app.inject({ method: 'POST', url: '/token', headers: { authorization: `Basic ${Buffer.from('%:x').toString('base64')}` }, payload: {} });
    expect(basic.statusCode).toBe(401);
    expect(basic.json()).toEqual({ error: 'invalid_client', error_description: 'malformed Basic credentials' });
    const authorize = await app.inject({ method: 'GET', url: `/authorize?client_id=${'x'.repeat(300)}` });
    expect(authorize.statusCode).toBe(400);
    expect(authorize.headers['content-type']).toMatch(/^text\/html/);
    expect(authorize.body).toContain('The request is missing something or is malformed.');
    const testLink = await app.inject({ method: 'GET', url: '/test/too-short' });
    expect(testLink.statusCode).toBe(400);
    expect(testLink.headers['content-type']).toMatch(/^text\/html/);
  });

  it('serves SCIM with its own errors, and counts its requests in the app\'s registry', async () => {
    const auth = { authorization: `Bearer ${SCIM_TOKEN}` };
    expect((await app.inject({ method: 'GET', url: '/scim/v2/acme/ServiceProviderConfig', headers: auth })).statusCode).toBe(200);
    const denied = await app.inject({ method: 'GET', url: '/scim/v2/acme/ServiceProviderConfig', headers: { authorization: 'Bearer wrong-token-0123456789' } });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['content-type']).toMatch(/^application\/scim\+json/);
    const missing = await app.inject({ method: 'GET', url: '/scim/v2/acme/Users/nobody', headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ status: '404' });

    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    const res = await fetch(`http://127.0.0.1:${metricsListener.port}/metrics`);
    expect(res.status).toBe(200);
    const metrics = { body: await res.text() };
    expect(metrics.body).toMatch(/gatehouse_scim_requests_total\{resource="ServiceProviderConfig",method="GET",status="200"\} 1/);
    expect(metrics.body).toMatch(/gatehouse_scim_requests_total\{resource="Users",method="GET",status="404"\} 1/);
    expect(metrics.body).toContain('gatehouse_sp_cache_synced{cache="config"} 1');
    expect(metrics.body).toContain('gatehouse_sp_cache_synced{cache="managedusers"} 0');
    expect(metrics.body).toContain('# TYPE gatehouse_saml_rejections_total counter');
    expect(metrics.body).toContain('process_cpu_seconds_total');
  });

  it('points the login-methods answer at the OAuth surface\'s authorize endpoint', async () => {
    const discovery = (await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json() as { authorization_endpoint: string };
    expect(discovery.authorization_endpoint).toBe(`${BASE}/authorize`);
    const methods = (await app.inject({ method: 'GET', url: '/api/v1/login-methods?email=alice@acme.test&client_id=console' })).json() as { ssoURL: string };
    expect(methods.ssoURL).toBe(`${discovery.authorization_endpoint}?client_id=console&login_hint=alice%40acme.test`);
  });
});
