// Where the rendered config comes from: the operator's Secret (watched) or a file (local use).
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { KubeClient } from '../../kube/client.ts';
import { Informer, type KubeObject } from '../../kube/informer.ts';
import { RESOURCES } from '../../kube/resources.ts';
import type { ConfigStore } from './store.ts';
import { SP_CONFIG_SECRET_KEY } from '../../crds/api/index.ts';

export interface ConfigSource {
  start(): void;
  /** True while the source is being followed (the watch is alive or the file is readable). */
  readonly healthy: boolean;
  close(): Promise<void>;
}

export class SecretConfigSource implements ConfigSource {
  private readonly informer: Informer<KubeObject & { data?: Record<string, string> }>;

  constructor(client: KubeClient, namespace: string, name: string, store: ConfigStore, logger: Logger) {
    let lastRV = '';
    // A field selector on the name: the chart grants list/watch on this one Secret only.
    this.informer = new Informer(client, RESOURCES.Secret, { namespace, fieldSelector: `metadata.name=${name}`, resyncMs: 5 * 60_000 }, logger);
    this.informer.on((event, secret) => {
      // A deleted Secret leaves the running config in place: the last good one keeps serving.
      if (event === 'delete' || secret.metadata.resourceVersion === lastRV) return;
      lastRV = secret.metadata.resourceVersion ?? '';
      const data = secret.data?.[SP_CONFIG_SECRET_KEY];
      if (data === undefined) {
        logger.error({ secret: `${namespace}/${name}` }, `config Secret has no ${SP_CONFIG_SECRET_KEY}; keeping the last good config`);
        return;
      }
      store.applyText(Buffer.from(data, 'base64').toString('utf8'), `secret ${namespace}/${name}@${lastRV}`);
    });
  }

  start(): void {
    this.informer.start();
  }
  get healthy(): boolean {
    return this.informer.healthy;
  }
  waitForSync(ms: number): Promise<boolean> {
    return this.informer.waitForSync(ms);
  }
  close(): Promise<void> {
    return this.informer.stop();
  }
}

/** Polls a file (mtime and size) twice a second: simple and works on every filesystem. */
export class FileConfigSource implements ConfigSource {
  private timer: NodeJS.Timeout | undefined;
  private lastStamp = '';
  private ok = false;
  private readonly path: string;
  private readonly store: ConfigStore;
  private readonly logger: Logger;

  constructor(path: string, store: ConfigStore, logger: Logger) {
    this.path = path;
    this.store = store;
    this.logger = logger;
  }

  async load(): Promise<void> {
    try {
      const s = await stat(this.path);
      const stamp = `${s.mtimeMs}:${s.size}`;
      this.ok = true;
      if (stamp === this.lastStamp) return;
      this.lastStamp = stamp;
      this.store.applyText(await readFile(this.path, 'utf8'), `file ${this.path}`);
    } catch (err) {
      if (this.ok) this.logger.error({ path: this.path, err: (err as Error).message }, 'config file unreadable; keeping the last good config');
      this.ok = false;
    }
  }

  start(): void {
    void this.load();
    this.timer = setInterval(() => void this.load(), 500);
    this.timer.unref();
  }
  get healthy(): boolean {
    return this.ok;
  }
  async close(): Promise<void> {
    clearInterval(this.timer);
  }
}
