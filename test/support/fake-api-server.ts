// A scripted stand-in for the API server on loopback, for unit tests of the client and the
// informer: every request is recorded and answered by the test's handler.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { KubeClient } from '../../kube/client.ts';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeApiServer {
  client: KubeClient;
  seen: SeenRequest[];
  /** TCP connections the server accepted. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function fakeApiServer(handler: (req: SeenRequest, res: ServerResponse) => void): Promise<FakeApiServer> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      handler(s, res);
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const client = await KubeClient.create({
    server: `http://127.0.0.1:${port}`,
    insecureSkipTLSVerify: false,
    headers: async () => ({ authorization: 'Bearer secret-token' }),
  });
  return {
    client,
    seen,
    get connections() {
      return connections;
    },
    async close() {
      await client.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
