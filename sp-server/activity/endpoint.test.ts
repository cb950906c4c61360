import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.ts';
import { startMetricsListener, type MetricsListener } from '../metrics-listener.ts';
import { readInternalToken } from './endpoint.ts';
import { MemoryActivityStore } from './store.ts';

const TOKEN = 'internal-token-0123456789abcdef';

describe('GET /internal/v1/activity/:namespace on the metrics listener', () => {
  let withToken: MetricsListener;
  let withoutToken: MetricsListener;
  const store = new MemoryActivityStore();
  const url = (l: MetricsListener, path: string) => `http://127.0.0.1:${l.port}${path}`;
  const get = (path: string, token: string | null = TOKEN, l = withToken) => fetch(url(l, path), { headers: token === null ? {} : { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    for (let i = 0; i < 120; i++) store.record('acme', { time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), outcome: i % 2 ? 'refused' : 'signed-in', profile: 'okta', protocol: 'saml', ...(i % 2 ? { code: 'USER_INACTIVE' } : {}) });
    const metrics = createMetrics();
    withToken = await startMetricsListener(metrics.registry, '127.0.0.1', 0, { store, token: TOKEN });
    withoutToken = await startMetricsListener(metrics.registry, '127.0.0.1', 0);
  });
  afterAll(async () => {
    await withToken?.close();
    await withoutToken?.close();
  });

  it('answers the newest 50 entries by default, newest first', async () => {
    const res = await get('/internal/v1/activity/acme');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { entries: { time: string; outcome: string; code?: string }[] };
    expect(body.entries).toHaveLength(50);
    expect(body.entries[0]).toMatchObject({ time: '2026-01-01T01:59:00.000Z', outcome: 'refused', code: 'USER_INACTIVE', protocol: 'saml', profile: 'okta' });
    expect(body.entries[1]?.time).toBe('2026-01-01T01:58:00.000Z');
  });

  it('honours limit from 1 to 200 and refuses others', async () => {
    expect(((await (await get('/internal/v1/activity/acme?limit=1')).json()) as { entries: unknown[] }).entries).toHaveLength(1);
    expect(((await (await get('/internal/v1/activity/acme?limit=200')).json()) as { entries: unknown[] }).entries).toHaveLength(120);
    for (const bad of ['0', '201', '-1', '1.5', 'ten', '']) expect((await get(`/internal/v1/activity/acme?limit=${bad}`)).status, bad).toBe(400);
  });

  it('answers an organization without activity with no entries', async () => {
    expect(await (await get('/internal/v1/activity/globex')).json()).toEqual({ entries: [] });
  });

  it('refuses a namespace that is not a DNS label', async () => {
    for (const bad of ['Acme', 'acme/x', '-acme', 'a'.repeat(64), 'a.b', '']) expect((await get(`/internal/v1/activity/${bad}`)).status, bad).toBe(400);
  });

  it('answers 401 without the token or with another one, before looking at anything else', async () => {
    for (const token of [null, '', 'wrong', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const res = await get('/internal/v1/activity/acme', token);
      expect(res.status, String(token)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.text()).not.toContain('signed-in');
    }
    expect((await fetch(url(withToken, '/internal/v1/activity/acme'), { headers: { authorization: `Basic ${TOKEN}` } })).status).toBe(401);
    expect((await get('/internal/v1/activity/Not_A_Label?limit=999', 'wrong')).status).toBe(401);
  });

  it('is 404 when the sp-server has no --internal-token-file', async () => {
    expect((await get('/internal/v1/activity/acme', TOKEN, withoutToken)).status).toBe(404);
    expect((await get('/metrics', null, withoutToken)).status).toBe(200);
    expect((await get('/metrics', null, withToken)).status).toBe(200);
  });

  it('reads the token file trimmed and refuses an empty or short one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-token-'));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    writeFileSync(join(dir, 'empty'), '\n');
    expect(readInternalToken(join(dir, 'token'))).toBe(TOKEN);
    expect(() => readInternalToken(join(dir, 'empty'))).toThrow(/no token/);
  });
});
