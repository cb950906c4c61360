// HTTP details the browser-facing routes share: cookies, the browser binding, random tokens, and
// HTML replies with their security headers.
import { hash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { refusalPage, type PageFrame } from './html.ts';
import { REFUSALS, type RefusalCode } from './refusals.ts';

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    if (k && !(k in out)) {
      try {
        out[k] = decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        // A cookie we cannot decode is one we did not set.
      }
    }
  }
  return out;
}

/**
 * A cookie's name on the wire: on HTTPS with the __Host- prefix, which browsers accept only from
 * this host (Secure, Path=/, no Domain), so a sibling subdomain cannot plant or shadow it. Plain
 * on http (local use), where browsers would refuse the prefix.
 */
export function cookieName(name: string, secure: boolean): string {
  return secure ? `__Host-${name}` : name;
}

/** A cookie this server set: on HTTPS only the __Host- one counts, never a plain namesake. */
export function readCookie(req: FastifyRequest, name: string, secure: boolean): string | undefined {
  return parseCookies(req.headers.cookie)[cookieName(name, secure)];
}

export function setCookie(reply: FastifyReply, name: string, value: string, maxAgeSeconds: number, secure: boolean): void {
  // The ACS receives a cross-site POST from the IdP: with HTTPS the cookie must be SameSite=None.
  const attrs = [`${cookieName(name, secure)}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', `Max-Age=${maxAgeSeconds}`, secure ? 'SameSite=None; Secure' : 'SameSite=Lax'];
  const prev = reply.getHeader('set-cookie');
  const list = Array.isArray(prev) ? prev.map(String) : prev === undefined ? [] : [String(prev)];
  reply.header('set-cookie', [...list, attrs.join('; ')]);
}

export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');
export const sha256b64url = (s: string) => hash('sha256', s, 'base64url');

export const BROWSER_COOKIE = 'gh_browser';
export const RESTART_COOKIE = 'gh_restart_profile';

/** The browser's binding value, creating the cookie when the browser has none. */
export function browserBinding(req: FastifyRequest, reply: FastifyReply, secure: boolean): string {
  let value = readCookie(req, BROWSER_COOKIE, secure);
  if (!value || value.length < 32 || value.length > 64) {
    value = randomToken();
  }
  // Refreshed on every login start so it outlives the pending request.
  setCookie(reply, BROWSER_COOKIE, value, 30 * 60, secure);
  return sha256b64url(value);
}

/**
 * The end-user pages' policy: their one stylesheet and script come from this origin (ui/assets.ts),
 * nothing inline and nothing from elsewhere; forms post only here.
 */
export const PAGE_CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The email page's policy: its form leads through /authorize to whichever IdP serves the address,
 * and browsers check form-action on every redirect of a submission, so that one page cannot list
 * its targets in advance. It renders no other form and nothing from input as markup.
 */
export const EMAIL_PAGE_CSP = PAGE_CSP.replace(" form-action 'self';", '');

export function html(reply: FastifyReply, status: number, body: string, csp: string = PAGE_CSP): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', csp)
    .header('x-content-type-options', 'nosniff')
    .send(body);
}

/** Answers a refused login with the refusal table's status and the user's page for the code. */
export function refusalReply(reply: FastifyReply, code: RefusalCode, title?: string, frame?: PageFrame): FastifyReply {
  return html(reply, REFUSALS[code].httpStatus, refusalPage(code, title, frame));
}

/** A listen address HOST:PORT ([v6]:PORT; an empty host is every interface). */
export function splitHostPort(s: string): [string, number] {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', Number(s.slice(i + 1))];
}
