// /metrics on its own listener (--metrics-address), off the public port: what the registry
// reveals about organizations and traffic is for the cluster's scraper, not for the internet.
// The portal's sign-in activity endpoint lives here too, for the same reason.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { handleActivityRequest, type ActivityEndpoint } from './activity/endpoint.ts';

export interface MetricsListener {
  /** The bound port (useful when asked for port 0). */
  port: number;
  close(): Promise<void>;
}

/** `activity`: serve /internal/v1/activity/ (absent: that path is 404 like any other). */
export async function startMetricsListener(registry: Registry, host: string, port: number, activity?: ActivityEndpoint): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    if (activity && handleActivityRequest(activity, req, res)) return;
    const path = (req.url ?? '').split('?')[0];
    if ((req.method !== 'GET' && req.method !== 'HEAD') || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
