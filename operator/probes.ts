// The operator's HTTP endpoints: /healthz and /livez, /readyz (fails while an informer is
// unsynced or failing) and /metrics, on one address or two.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { InformerControl } from '../kube/informer.ts';

type Reply = { code: number; type: string; body: string };

const TEXT = 'text/plain; charset=utf-8';

async function listen(address: string, handler: (path: string) => Promise<Reply>): Promise<Server | undefined> {
  if (address === '0') return undefined;
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '') || undefined;
  const port = Number(address.slice(i + 1));
  const server = createServer((req, res) => {
    handler((req.url ?? '/').split('?')[0] ?? '/').then(
      (r) => res.writeHead(r.code, { 'content-type': r.type }).end(r.body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export async function startProbes(opts: { healthAddress: string; metricsAddress: string; informers: () => InformerControl[]; registry: Registry }): Promise<Server[]> {
  const health = async (path: string): Promise<Reply> => {
    if (path === '/healthz' || path === '/livez') return { code: 200, type: TEXT, body: 'ok\n' };
    if (path === '/readyz') {
      const bad = opts.informers().filter((i) => !i.healthy).map((i) => i.name);
      return bad.length === 0 ? { code: 200, type: TEXT, body: 'ok\n' } : { code: 503, type: TEXT, body: `informers not synced or failing: ${bad.join(', ')}\n` };
    }
    return { code: 404, type: TEXT, body: 'not found\n' };
  };
  const metrics = async (path: string): Promise<Reply> => (path === '/metrics' ? { code: 200, type: opts.registry.contentType, body: await opts.registry.metrics() } : health(path));
  const servers =
    opts.metricsAddress === opts.healthAddress ? [await listen(opts.healthAddress, metrics)] : [await listen(opts.healthAddress, health), await listen(opts.metricsAddress, metrics)];
  return servers.filter((s): s is Server => s !== undefined);
}
