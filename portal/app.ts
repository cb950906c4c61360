// The portal's HTTP app: security headers and a strict CSP on every answer, form and upload
// parsing with small limits, rate limits, the public routes (setup links, sign-in, the
// setup-link API) and the screens, which all sit behind a session bound to one organization.
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerAssets } from '../ui/assets.ts';
import type { PortalContext } from './context.ts';
import { registerErrorPages } from './error-pages.ts';
import { setupRoutes } from './routes/setup.ts';
import { signinRoutes } from './routes/signin.ts';
import { SCREENS } from './screens/index.ts';
import { requireSession } from './session/request-session.ts';
import { setupLinksAPI } from './setup-links/api.ts';

/** The largest form or upload (IdP metadata, a user CSV) the portal reads. */
export const BODY_LIMIT_BYTES = 1_048_576;

function contentSecurityPolicy(ctx: PortalContext): string {
  // The sign-in form's POST is answered with a redirect to the issuer; form-action covers it.
  const issuer = ctx.options.oidc ? ` ${new URL(ctx.options.oidc.issuer).origin}` : '';
  return `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'${issuer}; frame-ancestors 'none'; base-uri 'none'`;
}

export async function buildPortal(ctx: PortalContext): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: false,
    // Setup links carry their secret in the path: never log it.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const csp = contentSecurityPolicy(ctx);
  const https = new URL(ctx.options.publicURL).protocol === 'https:';
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', csp);
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), clipboard-write=(self)');
    if (https) reply.header('strict-transport-security', 'max-age=31536000');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES });
  await app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: BODY_LIMIT_BYTES, files: 1, fields: 64, fieldSize: 65_536, parts: 66 } });
  await app.register(rateLimit, { global: true, max: ctx.options.rateLimitPerMinute, timeWindow: '1 minute', keyGenerator: (req) => req.ip });
  registerErrorPages(app, ctx);
  registerAssets(app);

  // Unauthenticated surfaces: tighter limits (each setup-link or sign-in request reads the API server).
  await app.register(async (open) => {
    await open.register(rateLimit, { max: ctx.options.openRateLimitPerMinute, timeWindow: '1 minute', keyGenerator: (req) => req.ip });
    await open.register(setupRoutes, { ctx });
    await open.register(signinRoutes, { ctx });
    await open.register(setupLinksAPI, { ctx });
  });

  await app.register(async (screens) => {
    await screens.register(requireSession, { ctx });
    for (const screen of SCREENS) await screens.register(screen, { ctx });
  });
  return app;
}
