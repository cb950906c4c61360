// /metrics, /healthz and /readyz on their own listener, off the public port.
import { createServer } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';

export interface ProbeListener {
  port: number;
  close(): Promise<void>;
}

export async function startProbeListener(host: string, port: number, ready: () => Promise<boolean>): Promise<ProbeListener> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_portal_' });
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET') return void res.writeHead(405).end();
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    if (path === '/readyz')
      return void ready().then(
        (ok) => res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' })),
        () => res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"unavailable"}'),
      );
    if (path === '/metrics')
      return void registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : port, close: () => new Promise((r) => server.close(() => r())) };
}
