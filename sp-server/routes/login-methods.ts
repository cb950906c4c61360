// The login-methods policy API: the application asks, for an email, whether password sign-in is
// allowed and whether SSO is available or enforced. JSON in, JSON out, errors included.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { SurfaceOptions } from '../context.ts';
import { jsonErrorHandler } from '../error-handlers.ts';
import { canonicalEmail } from '../login/address.ts';
import { loginMethods } from '../login/methods.ts';

export const loginMethodsSurface: FastifyPluginAsync<SurfaceOptions> = async (app, { ctx: gh }) => {
  app.setErrorHandler(jsonErrorHandler);

  app.get('/api/v1/login-methods', { schema: { querystring: z.object({ email: z.string().min(3).max(320) }) } }, async (req, reply) => {
    const { email: raw } = req.query as { email: string };
    // The address is checked by giving it its canonical form: one without is refused rather than
    // answered as a stranger's.
    const email = canonicalEmail(raw);
    if (!email) return reply.code(400).send({ error: 'invalid_request', error_description: 'invalid parameters' });
    return loginMethods(email, { config: gh.config, users: gh.users.byEmail(email), jitProvisioning: gh.jitProvisioning, issuer: gh.issuer });
  });
};
