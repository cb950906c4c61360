// The admin portal in the test process on a free loopback port, against the test control plane,
// and an HTTP client for it that holds a session as a browser would (cookie + the CSRF token of
// the last page). Browser tests run the portal as a process instead (the chart's arguments).
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { KubeClient } from '../../kube/client.ts';
import { buildPortal } from '../../portal/app.ts';
import type { ActivitySource, Mailer, PortalContext } from '../../portal/context.ts';
import { portalOptions, type PortalOptionsInput } from '../../portal/options.ts';
import { cookieName } from '../../portal/session/request-session.ts';
import type { Actor } from '../../portal/session/sessions.ts';
import { SessionStore } from '../../portal/session/sessions.ts';
import { SetupLinks } from '../../portal/setup-links/links.ts';
import type { OAuthClient } from '../../sp-server/oauth/clients.ts';
import { MemoryStore } from '../../sp-server/state/store.ts';
import { freePort } from '../controlplane/controlplane.ts';

export const SETUP_LINKS_CONFIGMAP = 'gatehouse-portal-setup-links';

/** Creates the setup links' ConfigMap as the chart does (empty), unless it exists. */
export async function ensureSetupLinksConfigMap(kube: KubeClient, namespace: string, name = SETUP_LINKS_CONFIGMAP): Promise<void> {
  try {
    await kube.call('POST', `/api/v1/namespaces/${namespace}/configmaps`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } } });
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && (err as { code: number }).code === 409)) throw err;
  }
}

export interface TestPortal {
  url: string;
  ctx: PortalContext;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startTestPortal(o: {
  kube: KubeClient;
  gatehouseNamespace: string;
  options?: Partial<PortalOptionsInput>;
  linkMinters?: OAuthClient[];
  mailer?: Mailer;
  activity?: ActivitySource;
}): Promise<TestPortal> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Every test request comes from 127.0.0.1: the limits are lifted unless a test sets them.
  const options = portalOptions.parse({ publicURL: url, gatehouseNamespace: o.gatehouseNamespace, openRateLimitPerMinute: 10_000, rateLimitPerMinute: 10_000, ...o.options });
  await ensureSetupLinksConfigMap(o.kube, o.gatehouseNamespace, options.setupLinksConfigMap);
  const state = new MemoryStore(10_000);
  const ctx: PortalContext = {
    options,
    kube: o.kube,
    log: pino({ level: process.env.PORTAL_LOG_LEVEL ?? 'silent' }),
    state,
    sessions: new SessionStore(state, options.sessionIdleMs, options.sessionMaxMs),
    setupLinks: new SetupLinks(o.kube, { namespace: o.gatehouseNamespace, configMap: options.setupLinksConfigMap, publicURL: url }),
    linkMinters: new Map((o.linkMinters ?? []).map((c) => [c.client_id, c])),
    mailer: o.mailer,
    activity: o.activity,
  };
  const app = await buildPortal(ctx);
  await app.listen({ host: '127.0.0.1', port });
  return { url, ctx, app, close: () => app.close() };
}

export interface PortalResponse {
  status: number;
  location: string | null;
  body: string;
  headers: Headers;
}

/** A browser-like client: keeps cookies, sends Origin, and fills `_csrf` from the last page. */
export class PortalClient {
  readonly base: string;
  private cookies = new Map<string, string>();
  csrf: string | undefined;

  constructor(base: string) {
    this.base = base;
  }

  private remember(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, eq);
      const value = (pair ?? '').slice(eq + 1);
      if (/max-age=0|expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private async finish(res: Response): Promise<PortalResponse> {
    this.remember(res);
    const body = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
    if (token) this.csrf = token;
    return { status: res.status, location: res.headers.get('location'), body, headers: res.headers };
  }

  /** Sets a cookie as if the portal had (a session made directly in the store). */
  setCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string, accept = 'text/html'): Promise<PortalResponse> {
    return this.finish(await fetch(this.base + path, { redirect: 'manual', headers: { cookie: this.cookieHeader(), accept } }));
  }

  /** A form POST (urlencoded), with the session's CSRF token unless `_csrf` is given. */
  async post(path: string, form: Record<string, string | string[]>, o: { origin?: string; csrf?: boolean } = {}): Promise<PortalResponse> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    if (o.csrf !== false && !('_csrf' in form) && this.csrf) body.set('_csrf', this.csrf);
    return this.finish(
      await fetch(this.base + path, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', origin: o.origin ?? this.base },
        body,
      }),
    );
  }

  /** A multipart POST (file uploads), with the CSRF token as a field. */
  async upload(path: string, fields: Record<string, string>, file: { field: string; name: string; type: string; content: string }): Promise<PortalResponse> {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    if (!('_csrf' in fields) && this.csrf) form.append('_csrf', this.csrf);
    form.append(file.field, new Blob([file.content], { type: file.type }), file.name);
    return this.finish(await fetch(this.base + path, { method: 'POST', redirect: 'manual', headers: { cookie: this.cookieHeader(), origin: this.base }, body: form }));
  }
}

/** A client signed in to `namespace` through a freshly minted setup link. */
export async function signInWithSetupLink(portal: TestPortal, namespace: string): Promise<PortalClient> {
  const link = await portal.ctx.setupLinks.mint(namespace, 'tests', 3_600_000);
  const client = new PortalClient(portal.url);
  const path = new URL(link.url).pathname;
  const landing = await client.get(path);
  if (landing.status !== 200) throw new Error(`setup link page answered ${landing.status}`);
  const redeemed = await client.post('/setup', { link: path.slice('/setup/'.length) }, { csrf: false });
  if (redeemed.status !== 303) throw new Error(`setup link redemption answered ${redeemed.status}: ${redeemed.body.slice(0, 300)}`);
  const home = await client.get('/');
  if (home.status !== 200) throw new Error(`overview answered ${home.status}`);
  return client;
}

/** A client with a session as an admin who signed in through Gatehouse (SSO) gets one. */
export async function signInAsSSOAdmin(portal: TestPortal, namespace: string, email: string): Promise<PortalClient> {
  const who: Actor = { name: email, via: 'sso', email };
  const session = await portal.ctx.sessions.create(namespace, who);
  const client = new PortalClient(portal.url);
  client.setCookie(cookieName(portal.url), session.id);
  const home = await client.get('/');
  if (home.status !== 200) throw new Error(`overview answered ${home.status}`);
  return client;
}
