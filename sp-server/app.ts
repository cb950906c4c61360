// The sp-server as a fastify application: SAML service provider toward the customers' IdPs and
// an OAuth 2.0 / OIDC provider toward the application. main.ts wires it to Kubernetes, Redis
// and files; tests build it directly.
import type { GroupSource } from './scim/groups.ts';
import formbody from '@fastify/formbody';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { serializerCompiler, validatorCompiler, hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import pino, { type Logger } from 'pino';
import type { ConfigStore } from './config/store.ts';
import type { AppContext, Lifetimes, Validator } from './context.ts';
import { errorPage } from './html.ts';
import { html } from './http-util.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import type { OAuthClient } from './oauth/clients.ts';
import type { SigningKey } from './oauth/keys.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { opsRoutes } from './routes/ops.ts';
import { samlRoutes } from './routes/saml.ts';
import { validateSamlResponse } from './saml/validate.ts';
import type { StateStore } from './state/store.ts';
import { MemoryStatusSink, type StatusSink } from './status/writer.ts';
import type { UserDirectory } from './users/directory.ts';

export interface AppOptions {
  /** The public base URL (OIDC issuer), without trailing slash. */
  publicURL: string;
  config: ConfigStore;
  users: UserDirectory;
  clients: OAuthClient[];
  signingKey: SigningKey;
  store: StateStore;
  status?: StatusSink;
  metrics?: Metrics;
  logger?: Logger;
  /** Replaces the SAML validator (unit tests of the routing around it). */
  validate?: Validator;
  lifetimes?: Partial<Lifetimes>;
  readiness?: () => Promise<Record<string, boolean>>;
  /** Whether this server may create ManagedUsers (JIT); profiles opt in as well. Default true. */
  jitProvisioning?: boolean;
  /** Where to find ManagedGroups for role mapping; none: the assertion's groups only. */
  groups?: GroupSource;
}

const contextPlugin = fp(
  async (app: FastifyInstance, ctx: { gh: AppContext }) => {
    app.decorate('gh', ctx.gh);
  },
  { name: 'gatehouse-context' },
);

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const issuer = options.publicURL.replace(/\/+$/, '');
  const gh: AppContext = {
    issuer,
    secureCookies: issuer.startsWith('https://'),
    config: options.config,
    users: options.users,
    clients: new Map(options.clients.map((c) => [c.client_id, c])),
    signingKey: options.signingKey,
    store: options.store,
    status: options.status ?? new MemoryStatusSink(),
    metrics: options.metrics ?? createMetrics(),
    logger,
    validate: options.validate ?? validateSamlResponse,
    lifetimes: { pendingMs: 10 * 60_000, codeMs: 60_000, tokenSeconds: 600, ...options.lifetimes },
    readiness: options.readiness ?? (async () => ({})),
    jitProvisioning: options.jitProvisioning ?? true,
    ...(options.groups ? { groups: options.groups } : {}),
  };

  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    trustProxy: true,
    bodyLimit: 1024 * 1024,
    // Per-request access logs are left to the ingress; the login path logs its own decisions.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(formbody);
  await app.register(contextPlugin, { gh });

  app.setErrorHandler((err, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      if (req.url.startsWith('/api/') || req.url.startsWith('/token')) {
        return reply.code(400).send({ error: 'invalid_request', error_description: 'invalid parameters' });
      }
      return html(reply, 400, errorPage('Bad request', 'The request is missing something or is malformed.'));
    }
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    if (req.url.startsWith('/api/') || req.url.startsWith('/token') || req.url.startsWith('/userinfo')) {
      return reply.code(status).send({ error: status >= 500 ? 'server_error' : 'invalid_request' });
    }
    return html(reply, status, errorPage(status >= 500 ? 'Something went wrong' : 'Bad request', status >= 500 ? 'Please try again in a moment.' : 'The request could not be processed.'));
  });

  await app.register(oauthRoutes);
  await app.register(samlRoutes);
  await app.register(opsRoutes);
  return app;
}
