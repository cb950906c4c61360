// A small Kubernetes REST client over node:https with the kubeconfig's credentials: list, watch
// streams, create and server-side apply. Explicit about what goes over the wire (content types,
// field manager), which the generated client makes easy to get wrong for custom resources.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeResponse {
  status: number;
  body: unknown;
  text: string;
}

export class KubeError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'KubeError';
    this.status = status;
  }
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: { metadata?: { resourceVersion?: string; name?: string; namespace?: string }; code?: number; [k: string]: unknown };
}

export class KubeClient {
  readonly kc: KubeConfig;
  private readonly server: URL;

  constructor(kc: KubeConfig) {
    this.kc = kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
  }

  static fromFileOrCluster(kubeconfigPath?: string): KubeClient {
    const kc = new KubeConfig();
    if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
    else kc.loadFromCluster();
    return new KubeClient(kc);
  }

  private async options(method: string, path: string, headers: Record<string, string>): Promise<RequestOptions> {
    const opts: RequestOptions = {
      method,
      hostname: this.server.hostname,
      port: this.server.port || (this.server.protocol === 'https:' ? 443 : 80),
      path: this.server.pathname.replace(/\/$/, '') + path,
      headers: { accept: 'application/json', ...headers },
    };
    await this.kc.applyToHTTPSOptions(opts);
    return opts;
  }

  private send(opts: RequestOptions) {
    return this.server.protocol === 'https:' ? httpsRequest(opts) : httpRequest(opts);
  }

  async request(method: string, path: string, body?: unknown, contentType = 'application/json', timeoutMs = 15_000): Promise<KubeResponse> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': contentType };
    const opts = await this.options(method, path, headers);
    return new Promise((resolve, reject) => {
      const req = this.send(opts);
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let parsed: unknown = undefined;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Server-side apply on `path` (append `/status` for the status subresource). */
  async apply(path: string, body: unknown, fieldManager: string, force = true): Promise<KubeResponse> {
    const q = `?fieldManager=${encodeURIComponent(fieldManager)}${force ? '&force=true' : ''}`;
    const res = await this.request('PATCH', path + q, body, 'application/apply-patch+yaml');
    if (res.status >= 300) throw new KubeError(res.status, `apply ${path}: ${res.status} ${res.text.slice(0, 300)}`);
    return res;
  }

  /**
   * Streams watch events until the server closes the stream, `signal` aborts, or an error; the
   * returned promise settles then. Idle streams are cut after `idleMs` without bytes.
   */
  async watch(path: string, onEvent: (e: WatchEvent) => void, signal: AbortSignal, idleMs = 90_000): Promise<void> {
    const opts = await this.options('GET', path, {});
    return new Promise((resolve, reject) => {
      const req = this.send(opts);
      const abort = () => req.destroy();
      signal.addEventListener('abort', abort, { once: true });
      req.setTimeout(idleMs, () => req.destroy(new Error('watch idle timeout')));
      req.on('response', (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          res.resume();
          reject(new KubeError(res.statusCode ?? 0, `watch ${path}: ${res.statusCode}`));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent);
            } catch (err) {
              req.destroy(err instanceof Error ? err : new Error(String(err)));
              return;
            }
          }
        });
        res.on('end', () => {
          signal.removeEventListener('abort', abort);
          resolve();
        });
        res.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
      });
      req.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
      req.end();
    });
  }
}
