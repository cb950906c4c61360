// The SCIM 2.0 service provider (RFC 7643 / 7644), one per organization under
// /scim/v2/{namespace}/. An encapsulated fastify plugin: its content-type parser, error
// handler, auth hook and 404 handler apply to its own routes only.
//
//   app.register(scimPlugin, { prefix: SCIM_PREFIX, kube, tokenVerifier, verifiedDomains, logger, metrics })
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { KubeApiError, type KubeClient } from '../../kube/client.ts';
import type { Metrics } from '../metrics.ts';
import { MAX_RESULTS, resourceTypes, schemaDefinitions, serviceProviderConfig } from './discovery.ts';
import { badRequest, ScimError } from './errors.ts';
import { parseFilter, type Filter } from './filter.ts';
import { MAX_PAYLOAD_BYTES } from './limits.ts';
import { parsePatchRequest } from './patch.ts';
import { LIST_SCHEMA } from './schemas.ts';
import { etagOf, ScimService, type Json, type VerifiedDomains } from './service.ts';
import { KubeStore } from './store.ts';
import { ScimUserCache } from './user-cache.ts';

export const SCIM_PREFIX = '/scim/v2';
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/** True when the bearer token is the organization's current SCIM token. */
export type TokenVerifier = (namespace: string, bearerToken: string) => Promise<boolean>;

export interface ScimPluginOptions {
  /** The sp-server's API-server client (the caller owns and closes it). */
  kube: KubeClient;
  tokenVerifier: TokenVerifier;
  /** The organization's Verified domains from the rendered config (a userName must be in one). */
  verifiedDomains: VerifiedDomains;
  logger: FastifyBaseLogger;
  /** The server's metrics; SCIM counts its requests there. */
  metrics: Pick<Metrics, 'scimRequests'>;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const listQuery = z.object({
  filter: z.string().optional(),
  startIndex: z.coerce.number().int().optional(),
  count: z.coerce.number().int().optional(),
  attributes: z.string().optional(),
  excludedAttributes: z.string().optional(),
});

const ALWAYS_RETURNED = new Set(['id', 'schemas', 'meta']);

/** attributes / excludedAttributes (RFC 7644 §3.9), at top-level granularity. */
function project(resource: Json, attributes?: string, excluded?: string): Json {
  const names = (s: string) =>
    s
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean)
      .map((a) => {
        const noUrn = /^urn:/i.test(a) && /:2\.0:[A-Za-z]+:/.test(a) ? a.slice(0, a.lastIndexOf(':')) : a;
        return (/^urn:/i.test(a) ? noUrn : a.split('.')[0]!).toLowerCase();
      });
  if (attributes) {
    const keep = new Set(names(attributes));
    return Object.fromEntries(Object.entries(resource).filter(([k]) => ALWAYS_RETURNED.has(k) || keep.has(k.toLowerCase())));
  }
  if (excluded) {
    const drop = new Set(names(excluded));
    return Object.fromEntries(Object.entries(resource).filter(([k]) => ALWAYS_RETURNED.has(k) || !drop.has(k.toLowerCase())));
  }
  return resource;
}

/** RFC 7644 §3.4.2.4: startIndex < 1 means 1; a negative count means 0. */
function paging(startIndexRaw: number | undefined, countRaw: number | undefined): { startIndex: number; count: number } {
  return { startIndex: Math.min(10_000_000, Math.max(1, startIndexRaw ?? 1)), count: Math.min(MAX_RESULTS, Math.max(0, countRaw ?? 100)) };
}

function listResponse(all: Json[], startIndexRaw: number | undefined, countRaw: number | undefined, attributes?: string, excluded?: string) {
  const { startIndex, count } = paging(startIndexRaw, countRaw);
  const page = all.slice(startIndex - 1, startIndex - 1 + count).map((r) => project(r, attributes, excluded));
  return { schemas: [LIST_SCHEMA], totalResults: all.length, startIndex, itemsPerPage: page.length, Resources: page };
}

function parseOptionalFilter(filter: string | undefined): Filter | undefined {
  return filter === undefined || filter.trim() === '' ? undefined : parseFilter(filter);
}

interface Params {
  namespace: string;
  id?: string;
}

export const scimPlugin: FastifyPluginAsync<ScimPluginOptions> = async (app, opts) => {
  // fastify's logger is the pino instance the server was given; the informer wants pino's type.
  const users = new ScimUserCache(opts.kube, opts.logger.child({ part: 'scim-users' }) as unknown as Logger);
  users.start();
  app.addHook('onClose', () => users.stop());
  const service = new ScimService(new KubeStore(opts.kube), opts.verifiedDomains, users);
  const log = opts.logger;
  const prefix = app.prefix;

  // SCIM speaks JSON only: text/plain (parsed by fastify by default) is a 415 here.
  app.removeContentTypeParser('text/plain');
  const parseJSON = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'application/scim+json'], { parseAs: 'string', bodyLimit: MAX_PAYLOAD_BYTES }, (req, body, done) => {
    // Entra ID's provisioning sends DELETE with a JSON content type and no body; a body-less GET
    // or DELETE carries nothing to parse. Writes still need a body (invalidSyntax otherwise).
    if (body === '' && (req.method === 'DELETE' || req.method === 'GET')) return done(null, undefined);
    return parseJSON(req, typeof body === 'string' ? body : body.toString('utf8'), done);
  });

  const baseURL = (req: FastifyRequest<{ Params: Params }>) => `${req.protocol}://${req.host}${prefix}/${req.params.namespace}`;
  const ifMatch = (req: FastifyRequest) => (typeof req.headers['if-match'] === 'string' ? req.headers['if-match'] : undefined);

  const send = (reply: FastifyReply, status: number, body: unknown, etag?: string) => {
    reply.code(status).type(SCIM_CONTENT_TYPE);
    if (etag) reply.header('ETag', etag);
    return reply.send(body);
  };

  app.setErrorHandler((err: unknown, req, reply) => {
    let scim: ScimError;
    if (err instanceof ScimError) {
      scim = err;
    } else if (err instanceof KubeApiError) {
      const message = z.object({ message: z.string() }).safeParse(typeof err.body === 'string' ? safeJson(err.body) : err.body);
      if (err.code === 422) scim = badRequest('invalidValue', message.success ? message.data.message : 'the API server rejected the resource');
      else if (err.code === 404) scim = new ScimError(404, 'not found');
      else if (err.code === 409) scim = new ScimError(409, 'conflict; retry', 'uniqueness');
      else if (err.code === 429) {
        reply.header('Retry-After', '1');
        scim = new ScimError(429, 'the organization\'s directory is busy; retry');
      } else {
        log.error({ err, status: err.code, url: req.url }, 'SCIM: Kubernetes API call failed');
        scim = new ScimError(503, 'the organization\'s directory is unavailable');
      }
    } else {
      const e = err as { statusCode?: number; code?: string; message?: string };
      if (e.statusCode === 415) scim = new ScimError(415, 'use Content-Type application/scim+json or application/json');
      else if (e.statusCode === 413) scim = new ScimError(413, 'request body too large');
      else if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) scim = badRequest('invalidSyntax', e.message ?? 'invalid request');
      else {
        log.error({ err, url: req.url }, 'SCIM request failed');
        scim = new ScimError(500, 'internal error');
      }
    }
    if (scim.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="gatehouse-scim"');
    return send(reply, scim.status, scim.toBody());
  });

  app.setNotFoundHandler((_req, reply) => send(reply, 404, new ScimError(404, 'no such SCIM endpoint').toBody()));

  app.addHook('onRequest', async (req) => {
    const ns = (req.params as Partial<Params>).namespace;
    if (!ns || !NAMESPACE.test(ns)) throw new ScimError(404, 'unknown organization');
    const m = /^Bearer +([\x21-\x7e]{1,512})$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1] || !(await opts.tokenVerifier(ns, m[1]))) {
      log.warn({ namespace: ns, ip: req.ip }, 'SCIM: authentication failed');
      throw new ScimError(401, 'a valid bearer token for this organization is required');
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    const resource = /\/(Users|Groups|ServiceProviderConfig|ResourceTypes|Schemas)\b/.exec(req.url)?.[1] ?? 'other';
    opts.metrics.scimRequests.inc({ resource, method: req.method, status: String(reply.statusCode) });
  });

  // Users --------------------------------------------------------------------------------------

  app.get<{ Params: Params }>('/:namespace/Users', async (req, reply) => {
    const q = parseQuery(req.query);
    const filter = parseOptionalFilter(q.filter);
    if (!filter) {
      const { startIndex, count } = paging(q.startIndex, q.count);
      const page = await service.listUsersPage(req.params.namespace, startIndex, count, baseURL(req));
      if (page) {
        const resources = page.resources.map((r) => project(r, q.attributes, q.excludedAttributes));
        return send(reply, 200, { schemas: [LIST_SCHEMA], totalResults: page.total, startIndex, itemsPerPage: resources.length, Resources: resources });
      }
    }
    const all = await service.listUsers(req.params.namespace, filter, baseURL(req));
    return send(reply, 200, listResponse(all, q.startIndex, q.count, q.attributes, q.excludedAttributes));
  });

  app.post<{ Params: Params }>('/:namespace/Users', async (req, reply) => {
    const obj = await service.createUser(req.params.namespace, req.body);
    const rep = service.userToScim(obj, baseURL(req));
    log.info({ namespace: req.params.namespace, user: obj.metadata.name }, 'SCIM: user created');
    reply.header('Location', (rep.meta as { location: string }).location);
    return send(reply, 201, rep, etagOf(obj));
  });

  app.get<{ Params: Params & { id: string } }>('/:namespace/Users/:id', async (req, reply) => {
    const q = parseQuery(req.query);
    const obj = await service.getUser(req.params.namespace, req.params.id);
    return send(reply, 200, project(service.userToScim(obj, baseURL(req)), q.attributes, q.excludedAttributes), etagOf(obj));
  });

  app.put<{ Params: Params & { id: string } }>('/:namespace/Users/:id', async (req, reply) => {
    const obj = await service.replaceUser(req.params.namespace, req.params.id, req.body, ifMatch(req));
    return send(reply, 200, service.userToScim(obj, baseURL(req)), etagOf(obj));
  });

  app.patch<{ Params: Params & { id: string } }>('/:namespace/Users/:id', async (req, reply) => {
    const patch = parsePatchRequest(req.body);
    const obj = await service.patchUser(req.params.namespace, req.params.id, patch.Operations, ifMatch(req));
    return send(reply, 200, service.userToScim(obj, baseURL(req)), etagOf(obj));
  });

  app.delete<{ Params: Params & { id: string } }>('/:namespace/Users/:id', async (req, reply) => {
    await service.deleteUser(req.params.namespace, req.params.id, ifMatch(req));
    log.info({ namespace: req.params.namespace, user: req.params.id }, 'SCIM: user deleted');
    return reply.code(204).send();
  });

  // Groups -------------------------------------------------------------------------------------

  app.get<{ Params: Params }>('/:namespace/Groups', async (req, reply) => {
    const q = parseQuery(req.query);
    const withMembers = !(q.excludedAttributes ?? '').toLowerCase().split(',').map((s) => s.trim()).includes('members');
    const all = await service.groups.listGroups(req.params.namespace, parseOptionalFilter(q.filter), baseURL(req), withMembers);
    return send(reply, 200, listResponse(all, q.startIndex, q.count, q.attributes, q.excludedAttributes));
  });

  app.post<{ Params: Params }>('/:namespace/Groups', async (req, reply) => {
    const obj = await service.groups.createGroup(req.params.namespace, req.body);
    const rep = service.groups.groupToScim(obj, baseURL(req));
    reply.header('Location', (rep.meta as { location: string }).location);
    return send(reply, 201, rep, etagOf(obj));
  });

  app.get<{ Params: Params & { id: string } }>('/:namespace/Groups/:id', async (req, reply) => {
    const q = parseQuery(req.query);
    const obj = await service.groups.getGroup(req.params.namespace, req.params.id);
    return send(reply, 200, project(service.groups.groupToScim(obj, baseURL(req)), q.attributes, q.excludedAttributes), etagOf(obj));
  });

  app.put<{ Params: Params & { id: string } }>('/:namespace/Groups/:id', async (req, reply) => {
    const obj = await service.groups.replaceGroup(req.params.namespace, req.params.id, req.body, ifMatch(req));
    return send(reply, 200, service.groups.groupToScim(obj, baseURL(req)), etagOf(obj));
  });

  app.patch<{ Params: Params & { id: string } }>('/:namespace/Groups/:id', async (req, reply) => {
    const patch = parsePatchRequest(req.body);
    const obj = await service.groups.patchGroup(req.params.namespace, req.params.id, patch.Operations, ifMatch(req));
    return send(reply, 200, service.groups.groupToScim(obj, baseURL(req)), etagOf(obj));
  });

  app.delete<{ Params: Params & { id: string } }>('/:namespace/Groups/:id', async (req, reply) => {
    await service.groups.deleteGroup(req.params.namespace, req.params.id, ifMatch(req));
    return reply.code(204).send();
  });

  // Discovery ----------------------------------------------------------------------------------

  app.get<{ Params: Params }>('/:namespace/ServiceProviderConfig', async (req, reply) => send(reply, 200, serviceProviderConfig(baseURL(req))));

  app.get<{ Params: Params }>('/:namespace/ResourceTypes', async (req, reply) => {
    const all = resourceTypes(baseURL(req));
    return send(reply, 200, { schemas: [LIST_SCHEMA], totalResults: all.length, startIndex: 1, itemsPerPage: all.length, Resources: all });
  });

  app.get<{ Params: Params & { id: string } }>('/:namespace/ResourceTypes/:id', async (req, reply) => {
    const found = resourceTypes(baseURL(req)).find((r) => r.id === req.params.id);
    if (!found) throw new ScimError(404, `ResourceType ${req.params.id} not found`);
    return send(reply, 200, found);
  });

  app.get<{ Params: Params }>('/:namespace/Schemas', async (req, reply) => {
    const all = schemaDefinitions(baseURL(req));
    return send(reply, 200, { schemas: [LIST_SCHEMA], totalResults: all.length, startIndex: 1, itemsPerPage: all.length, Resources: all });
  });

  app.get<{ Params: Params & { id: string } }>('/:namespace/Schemas/:id', async (req, reply) => {
    const found = schemaDefinitions(baseURL(req)).find((s) => s.id === req.params.id);
    if (!found) throw new ScimError(404, `Schema ${req.params.id} not found`);
    return send(reply, 200, found);
  });
};

function parseQuery(query: unknown): z.infer<typeof listQuery> {
  const res = listQuery.safeParse(query);
  if (!res.success) throw badRequest('invalidValue', `invalid query: ${z.prettifyError(res.error)}`);
  return res.data;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
