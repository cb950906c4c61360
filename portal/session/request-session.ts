// Binds requests to sessions: reads the cookie, refuses unsafe requests without the session's
// CSRF token or from another origin, and gives every screen `req.portal` — the session and its
// one organization. Nothing in a request can name another organization.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { PortalContext } from '../context.ts';
import { cookieSecure } from '../options.ts';
import { Organization } from '../organization.ts';
import type { Session } from './sessions.ts';

export const SESSION_COOKIE = '__Host-gatehouse-portal';
/** Plain-http development (http://127.0.0.1) cannot set a __Host- cookie. */
export const DEV_SESSION_COOKIE = 'gatehouse-portal';

export interface PortalRequestState {
  session: Session;
  org: Organization;
  /** Set when the organization is GitOps-managed: screens render read-only and refuse writes. */
  readOnly: string | undefined;
  orgName: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    portal?: PortalRequestState;
  }
}

export function cookieName(publicURL: string): string {
  return new URL(publicURL).protocol === 'https:' ? SESSION_COOKIE : DEV_SESSION_COOKIE;
}

export function setSessionCookie(reply: FastifyReply, ctx: PortalContext, session: Session): void {
  reply.setCookie(cookieName(ctx.options.publicURL), session.id, {
    path: '/',
    httpOnly: true,
    secure: cookieSecure(ctx.options.publicURL),
    sameSite: 'lax',
    maxAge: Math.floor(ctx.options.sessionMaxMs / 1000),
  });
}

export function clearSessionCookie(reply: FastifyReply, ctx: PortalContext): void {
  reply.clearCookie(cookieName(ctx.options.publicURL), { path: '/' });
}

const equal = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The request's Origin (or Referer) is the portal's own, when the browser says. */
export function sameOrigin(req: FastifyRequest, publicURL: string): boolean {
  const expected = new URL(publicURL).origin;
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') return origin === expected;
  const referer = req.headers.referer;
  if (typeof referer === 'string') {
    try {
      return new URL(referer).origin === expected;
    } catch {
      return false;
    }
  }
  // Browsers send Origin on every cross-site POST; a request with neither is not a browser's form.
  return true;
}

function csrfTokenOf(req: FastifyRequest): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const fromBody = body && typeof body === 'object' ? body._csrf : undefined;
  if (typeof fromBody === 'string') return fromBody;
  const header = req.headers['x-csrf-token'];
  return typeof header === 'string' ? header : undefined;
}

/** Requires a session on every route of the instance it is registered on. */
export const requireSession = fp<{ ctx: PortalContext }>(async (app, { ctx }) => {
  app.addHook('preHandler', async (req, reply) => {
    const id = req.cookies[cookieName(ctx.options.publicURL)];
    const session = await ctx.sessions.get(id);
    if (!session) {
      if (req.method === 'GET' && !req.headers.accept?.includes('application/json')) return reply.redirect('/signin', 303);
      return reply.code(401).send({ error: 'signed_out', message: 'Your session has ended. Sign in again.' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const token = csrfTokenOf(req);
      if (!token || !equal(token, session.csrfToken) || !sameOrigin(req, ctx.options.publicURL))
        return reply.code(403).send({ error: 'csrf', message: 'This form has expired or came from another site. Reload the page and try again.' });
    }
    const org = new Organization(ctx.kube, ctx.log, session.namespace, session.actor);
    const { readOnly, displayName } = await org.describe();
    req.portal = { session, org, readOnly, orgName: displayName };
  });
});

/** The request's portal state; routes behind requireSession always have it. */
export function portalOf(req: FastifyRequest): PortalRequestState {
  if (!req.portal) throw new Error('route registered without requireSession');
  return req.portal;
}
