// The rate limits of the public surface, on fixed-window counters (counters.ts): per client address and per
// organization on /authorize, the ACS (and the OIDC callback), login-methods and /token, per token on SCIM. Attached by
// route from one onRoute hook, so no surface needs to know them; each answers 429 with
// Retry-After in its own shape (a page for browsers, OAuth JSON, the SCIM error schema).
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { domainOf } from '../config/store.ts';
import type { AppContext, CodeGrant } from '../context.ts';
import { refusalReply, sha256b64url } from '../http-util.ts';
import { ScimError } from '../scim/errors.ts';
import { SCIM_CONTENT_TYPE, SCIM_PREFIX } from '../scim/plugin.ts';
import { OAUTH_PATHS, OIDC_UPSTREAM_PATHS } from '../urls.ts';
import { clientKey } from './client-address.ts';
import type { Counters } from './counters.ts';
import type { RateLimits } from './settings.ts';

type KeyOf = (req: FastifyRequest) => string | undefined | Promise<string | undefined>;
type Answer = (reply: FastifyReply, retryAfterSeconds: number) => FastifyReply;
type Check = (req: FastifyRequest) => Promise<{ limit: string; retryAfterSeconds: number } | undefined>;

const firstString = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined);

export function installRateLimits(app: FastifyInstance, gh: AppContext, limits: RateLimits, counters: Counters): void {
  const windowMs = limits.windowSeconds * 1000;

  /**
   * One limit: `max` requests per window per key; a request without a key is not counted by it.
   * Counted straight on the counters, under the keys @fastify/rate-limit's createRateLimit gave them
   * (`name:key`, so replicas of either version share a window in Redis): its promise and callback
   * layers around the same counter cost more CPU than the count itself.
   */
  const limit = (name: string, max: number, keyOf: KeyOf): Check => {
    return async (req) => {
      const key = await keyOf(req);
      // An empty key: nothing to count by (no organization resolved for this request).
      if (key === undefined || key === '') return undefined;
      const { count, ttlMs } = await counters.incr(`${name}:${key}`, windowMs);
      return count > max ? { limit: name, retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) } : undefined;
    };
  };

  const byIP: KeyOf = (req) => clientKey(req);
  const orgOfEmail = (email: string | undefined) => (email?.includes('@') ? gh.config.organizationForDomain(domainOf(email.trim().toLowerCase()))?.namespace : undefined);
  const query = (req: FastifyRequest, name: string) => firstString((req.query as Record<string, unknown> | undefined)?.[name]);
  const acsOrg: KeyOf = (req) => {
    const { namespace, profile } = req.params as { namespace?: string; profile?: string };
    return namespace && profile && gh.config.profile(namespace, profile) ? namespace : undefined;
  };
  const tokenOrg: KeyOf = async (req) => {
    const code = firstString((req.body as Record<string, unknown> | undefined)?.code);
    if (!code || code.length > 256) return undefined;
    try {
      const raw = await gh.store.get(`code:${sha256b64url(code)}`);
      return raw ? (JSON.parse(raw) as CodeGrant).org : undefined;
    } catch {
      return undefined;
    }
  };
  // SCIM authenticates in its own onRequest hook, which runs first: only a valid token is counted,
  // so nobody without it can use up an organization's budget. Never the token itself: its hash
  // names the counter (and the Redis key).
  const scimToken: KeyOf = (req) => {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    return bearer ? sha256b64url(bearer) : undefined;
  };

  const page: Answer = (reply) => refusalReply(reply, 'RATE_LIMITED', 'Too many requests');
  const oauthJson: Answer = (reply, s) =>
    reply.code(429).header('cache-control', 'no-store').send({ error: 'temporarily_unavailable', error_description: `too many requests; retry in ${s} s` });
  const scimJson: Answer = (reply, s) => reply.code(429).type(SCIM_CONTENT_TYPE).send(new ScimError(429, `too many requests; retry in ${s} s`).toBody());

  const rules: Array<{ matches: (r: RouteOptions) => boolean; hook: 'onRequest' | 'preHandler'; checks: Check[]; answer: Answer }> = [
    {
      // HEAD too: it runs the GET handler.
      matches: (r) => r.url === OAUTH_PATHS.authorize,
      hook: 'onRequest',
      checks: [limit('authorize-ip', limits.authorize.perIP, byIP), limit('authorize-org', limits.authorize.perOrganization, (req) => orgOfEmail(query(req, 'login_hint')))],
      answer: page,
    },
    {
      // The OIDC callback is an OpenID Provider's ACS: the same budget.
      matches: (r) => r.url === '/saml/:namespace/:profile/acs' || r.url === OIDC_UPSTREAM_PATHS.callback,
      hook: 'onRequest',
      checks: [limit('acs-ip', limits.acs.perIP, byIP), limit('acs-org', limits.acs.perOrganization, acsOrg)],
      answer: page,
    },
    {
      matches: (r) => r.url === '/api/v1/login-methods',
      hook: 'onRequest',
      checks: [limit('login-methods-ip', limits.loginMethods.perIP, byIP), limit('login-methods-org', limits.loginMethods.perOrganization, (req) => orgOfEmail(query(req, 'email')))],
      answer: oauthJson,
    },
    {
      // After the body is read: the organization is the one the code was issued for.
      matches: (r) => r.url === OAUTH_PATHS.token,
      hook: 'preHandler',
      checks: [limit('token-ip', limits.token.perIP, byIP), limit('token-org', limits.token.perOrganization, tokenOrg)],
      answer: oauthJson,
    },
    {
      matches: (r) => r.url === SCIM_PREFIX || r.url.startsWith(`${SCIM_PREFIX}/`),
      hook: 'onRequest',
      checks: [limit('scim-token', limits.scim.perToken, scimToken)],
      answer: scimJson,
    },
  ];

  app.addHook('onRoute', (route) => {
    const rule = rules.find((r) => r.matches(route));
    if (!rule) return;
    const enforce = async (req: FastifyRequest, reply: FastifyReply) => {
      for (const check of rule.checks) {
        const exceeded = await check(req);
        if (!exceeded) continue;
        gh.metrics.rateLimited.inc({ limit: exceeded.limit });
        req.log.info({ limit: exceeded.limit, client: clientKey(req) }, 'rate limit exceeded');
        reply.header('retry-after', String(exceeded.retryAfterSeconds));
        return rule.answer(reply, exceeded.retryAfterSeconds);
      }
      return undefined;
    };
    const existing = route[rule.hook];
    route[rule.hook] = [...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]), enforce] as RouteOptions['onRequest'];
  });
}
