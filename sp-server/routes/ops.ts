// Probes (metrics have their own listener, metrics-listener.ts). Readiness needs a good config and
// healthy caches and state store; a refused config update does not make the server unready (the
// last good config keeps serving).
import type { FastifyPluginAsync } from 'fastify';
import type { SurfaceOptions } from '../context.ts';

export const opsSurface: FastifyPluginAsync<SurfaceOptions> = async (app, { ctx: gh }) => {
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
};
