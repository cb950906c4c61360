// The setup-link API for the application's backend: an OAuth client registered with
// `mintSetupLinks: true` authenticates with its client credentials (HTTP Basic, as at /token)
// and mints, lists or revokes one organization's single-use admin links.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { parseDuration } from '../../crds/api/duration.ts';
import { authenticateClient, BASIC_CHALLENGE } from '../../sp-server/oauth/client-auth.ts';
import type { RouteOptions } from '../context.ts';
import { SetupLinkError, setupLinkTTLAllowed } from './links.ts';

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'an organization is a namespace name (a DNS label)');
const mintBody = z.object({
  namespace: dnsLabel,
  ttl: z
    .string()
    .max(16)
    .regex(/^([0-9]+(ms|s|m|h))+$/, 'a duration such as 30m or 24h')
    .optional(),
  /** Who the link is for (the admin's email or name in the application): Events name them. */
  issuedTo: z.string().trim().min(1).max(320).optional(),
}).strict();
const listQuery = z.object({ namespace: dnsLabel.optional() }).strict();
const idParams = z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, 'a setup link id') });

function problem(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').send({ error, message });
}

export const setupLinksAPI: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.addHook('preHandler', async (req, reply) => {
    const auth = await authenticateClient(ctx.linkMinters, { authorization: req.headers.authorization, clientId: undefined, secret: undefined });
    if ('error' in auth) return problem(reply.header('www-authenticate', BASIC_CHALLENGE), 401, 'invalid_client', 'authenticate with the client_id and client_secret of an OAuth client allowed to mint setup links (mintSetupLinks: true)');
    req.setupLinkClient = auth.client.client_id;
  });

  app.post('/api/v1/setup-links', async (req, reply) => {
    const body = mintBody.safeParse(req.body);
    if (!body.success) return problem(reply, 400, 'invalid_request', body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    const ttlMs = body.data.ttl ? parseDuration(body.data.ttl) : ctx.options.setupLinkTTLMs;
    if (!setupLinkTTLAllowed(ttlMs)) return problem(reply, 400, 'invalid_request', 'ttl: between 1m and 168h');
    try {
      const link = await ctx.setupLinks.mint(body.data.namespace, `client ${req.setupLinkClient}`, ttlMs, body.data.issuedTo);
      ctx.log.info({ client: req.setupLinkClient, namespace: link.namespace, link: link.id, expiresAt: link.expiresAt }, 'setup link minted');
      return reply.code(201).header('cache-control', 'no-store').send(link);
    } catch (err) {
      if (err instanceof SetupLinkError) return problem(reply, err.statusCode, err.statusCode === 404 ? 'unknown_organization' : 'unavailable', err.message);
      throw err;
    }
  });

  app.get('/api/v1/setup-links', async (req, reply) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) return problem(reply, 400, 'invalid_request', q.error.issues.map((i) => i.message).join('; '));
    return reply.header('cache-control', 'no-store').send({ links: await ctx.setupLinks.list(q.data.namespace) });
  });

  app.delete('/api/v1/setup-links/:id', async (req, reply) => {
    const p = idParams.safeParse(req.params);
    if (!p.success) return problem(reply, 400, 'invalid_request', 'a setup link id is 16 hex digits');
    if (!(await ctx.setupLinks.revoke(p.data.id))) return problem(reply, 404, 'not_found', 'no live setup link with this id');
    ctx.log.info({ client: req.setupLinkClient, link: p.data.id }, 'setup link revoked');
    return reply.code(204).send();
  });
};

declare module 'fastify' {
  interface FastifyRequest {
    setupLinkClient?: string;
  }
}
