// Cookies carry the __Host- prefix on HTTPS (so a sibling subdomain cannot plant or shadow them)
// and keep their plain names on http; /metrics is served by its own listener, not the public app.
import type { FastifyRequest } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { acmeConfig, APP_CLIENT, user } from '../../test/support/sp-app.ts';
import { buildApp } from '../app.ts';
import { ConfigStore } from '../config/store.ts';
import { BROWSER_COOKIE, readCookie } from '../http-util.ts';
import { startMetricsListener } from '../metrics-listener.ts';
import { createMetrics } from '../metrics.ts';
import { generateSigningKeys } from '../oauth/keys.ts';
import { MemoryStore } from '../state/store.ts';
import { StaticUserDirectory } from '../users/directory.ts';

async function appAt(base: string) {
  const metrics = createMetrics();
  const config = new ConfigStore(pino({ level: 'silent' }), metrics);
  config.apply(acmeConfig(base));
  return buildApp({ publicURL: base, config, users: new StaticUserDirectory([user('acme', 'alice@acme.test')]), clients: [APP_CLIENT], signingKeys: await generateSigningKeys(), store: new MemoryStore(), metrics });
}

const startLogin = `/authorize?${new URLSearchParams({ client_id: APP_CLIENT.client_id, redirect_uri: APP_CLIENT.redirect_uris[0] as string, response_type: 'code', scope: 'openid email', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256', login_hint: 'alice@acme.test' })}`;
const request = (cookie: string) => ({ headers: { cookie } }) as FastifyRequest;

describe('cookie names', () => {
  it('on HTTPS: __Host-, Secure, Path=/ and no Domain', async () => {
    const app = await appAt('https://sp.test');
    const res = await app.inject({ method: 'GET', url: startLogin });
    expect(res.statusCode).toBe(302);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^__Host-gh_browser=[^;]+; Path=\/; /);
    expect(cookie).toContain('; Secure');
    expect(cookie).not.toMatch(/domain=/i);
    await app.close();
  });

  it('on http (local use): the plain name', async () => {
    const app = await appAt('http://127.0.0.1:1');
    const res = await app.inject({ method: 'GET', url: startLogin });
    expect(String(res.headers['set-cookie'])).toMatch(/^gh_browser=/);
    await app.close();
  });

  it('on HTTPS only the __Host- cookie is read, never a plain namesake', () => {
    expect(readCookie(request('gh_browser=planted; __Host-gh_browser=ours'), BROWSER_COOKIE, true)).toBe('ours');
    expect(readCookie(request('gh_browser=planted'), BROWSER_COOKIE, true)).toBeUndefined();
    expect(readCookie(request('gh_browser=local'), BROWSER_COOKIE, false)).toBe('local');
  });
});

describe('the metrics listener', () => {
  it('serves /metrics and nothing else, while the public app answers 404 for /metrics', async () => {
    const metrics = createMetrics();
    metrics.logins.inc({ kind: 'login' });
    const listener = await startMetricsListener(metrics.registry, '127.0.0.1', 0);
    try {
      const res = await fetch(`http://127.0.0.1:${listener.port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('gatehouse_sso_logins_total{kind="login"} 1');
      expect((await fetch(`http://127.0.0.1:${listener.port}/healthz`)).status).toBe(404);
    } finally {
      await listener.close();
    }
    const app = await appAt('https://sp.test');
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    await app.close();
  });
});
