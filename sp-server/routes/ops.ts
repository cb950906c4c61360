// Probes and metrics. Readiness needs a good config and healthy caches and state store; a
// refused config update does not make the server unready (the last good config keeps serving).
import type { FastifyPluginAsync } from 'fastify';
import { Registry, register } from 'prom-client';

export const opsRoutes: FastifyPluginAsync = async (app) => {
  const gh = app.gh;
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, boolean> = {
      config: gh.config.loaded,
      managedUsers: gh.users.healthy,
      store: await gh.store.ping(),
      ...(await gh.readiness()),
    };
    const ok = Object.values(checks).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks, configHash: gh.config.version.slice(0, 12) || null });
  });
  // This server's registry plus prom-client's global one, where plugins (SCIM) register theirs.
  app.get('/metrics', async (_req, reply) => {
    let registry = gh.metrics.registry;
    try {
      registry = Registry.merge([gh.metrics.registry, register]);
    } catch {
      // A name registered in both: serve this server's own metrics rather than none.
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
};
