// The login-methods API: the application, authenticated as an OAuth client, asks which sign-in
// methods its login page may offer for an email. JSON in, JSON out, errors included.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { SurfaceOptions } from '../context.ts';
import { jsonErrorHandler } from '../error-handlers.ts';
import { canonicalEmail } from '../login/address.ts';
import { loginMethods } from '../login/methods.ts';
import { authenticateClient, BASIC_CHALLENGE } from '../oauth/client-auth.ts';

const query = z.object({
  email: z.string().max(320).optional(),
  client_id: z.string().max(256).optional(),
  client_secret: z.string().max(1024).optional(),
});

export const loginMethodsSurface: FastifyPluginAsync<SurfaceOptions> = async (app, { ctx: gh }) => {
  app.setErrorHandler(jsonErrorHandler);

  app.get('/api/v1/login-methods', { schema: { querystring: query } }, async (req, reply) => {
    const q = req.query as z.infer<typeof query>;
    // A secret in a URL ends up in access logs and proxies: HTTP Basic carries it.
    if (q.client_secret !== undefined) return reply.code(400).send({ error: 'invalid_request', error_description: 'send the client secret with HTTP Basic, not in the URL' });
    // Only the application asks: anyone else learns nothing, not even whether the address is valid.
    const auth = await authenticateClient(gh.clients, { authorization: req.headers.authorization, clientId: q.client_id, secret: undefined });
    if ('error' in auth) {
      req.log.info({ description: auth.description }, 'login-methods request refused');
      return reply.code(401).header('www-authenticate', BASIC_CHALLENGE).send({ error: auth.error, error_description: 'client authentication failed' });
    }
    // The address is checked by giving it its canonical form: one without is refused rather than
    // answered as a stranger's.
    const email = q.email !== undefined && q.email.length >= 3 ? canonicalEmail(q.email) : undefined;
    if (!email) return reply.code(400).send({ error: 'invalid_request', error_description: 'invalid parameters' });
    const decision = loginMethods(email, { config: gh.config, users: gh.users.byEmail(email), jitProvisioning: gh.jitProvisioning, issuer: gh.issuer, clientId: auth.client.client_id });
    req.log.debug({ client: auth.client.client_id, organization: decision.organization, reason: decision.reason, methods: decision.answer.methods }, 'login-methods answered');
    return reply.header('cache-control', 'no-store').send(decision.answer);
  });
};
