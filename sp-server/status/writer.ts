// What the sp-server writes into SSOProfile status: the latest rejection codes (recentFailures,
// coalesced and written at most once per profile per interval) and the test-connection outcome.
// Server-side apply on /status with its own field manager, so the operator's fields (owned by
// gatehouse-operator) are never touched. Both fields are sent in every apply: SSA removes fields
// a manager owned and then omits.
import type { Logger } from 'pino';
import { API_VERSION, ssoProfileKind, type SSOProfileStatus } from '../../crds/api/index.ts';
import { isNotFound, type KubeClient } from '../../kube/client.ts';
import { pathOf } from '../../kube/resources.ts';
import type { Metrics } from '../metrics.ts';

export const FIELD_MANAGER = 'gatehouse-sp-server';

type Failure = NonNullable<SSOProfileStatus['recentFailures']>[number];
/** The test fields the sp-server owns; url and lastPassed are the operator's. */
export type TestStatus = Omit<NonNullable<SSOProfileStatus['test']>, 'url' | 'lastPassed'>;

export interface StatusSink {
  recordFailure(namespace: string, profile: string, code: string, hint: string): void;
  recordTest(namespace: string, profile: string, test: TestStatus): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

interface ProfileState {
  failures: Map<string, Failure>;
  dirty: boolean;
  lastWrite: number;
  timer: NodeJS.Timeout | undefined;
  writing: Promise<void> | undefined;
}

const MAX_FAILURES = 10;
const HINT_MAX = 1024;

export class KubeStatusSink implements StatusSink {
  private readonly profiles = new Map<string, ProfileState>();
  private readonly client: KubeClient;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly intervalMs: number;

  constructor(client: KubeClient, logger: Logger, metrics: Metrics, intervalMs = 10_000) {
    this.client = client;
    this.logger = logger;
    this.metrics = metrics;
    this.intervalMs = intervalMs;
  }

  private state(key: string): ProfileState {
    let s = this.profiles.get(key);
    if (!s) this.profiles.set(key, (s = { failures: new Map(), dirty: false, lastWrite: 0, timer: undefined, writing: undefined }));
    return s;
  }

  recordFailure(namespace: string, profile: string, code: string, hint: string): void {
    const key = `${namespace}/${profile}`;
    const s = this.state(key);
    const prev = s.failures.get(code);
    s.failures.delete(code);
    s.failures.set(code, { code, hint: hint.slice(0, HINT_MAX), count: (prev?.count ?? 0) + 1, lastSeenTime: new Date().toISOString() });
    while (s.failures.size > MAX_FAILURES) s.failures.delete(s.failures.keys().next().value as string);
    s.dirty = true;
    if (s.timer) return;
    const wait = Math.max(0, s.lastWrite + this.intervalMs - Date.now());
    s.timer = setTimeout(() => {
      s.timer = undefined;
      void this.write(namespace, profile, s);
    }, wait);
    s.timer.unref();
  }

  private path(namespace: string, name: string): string {
    return pathOf('SSOProfile', namespace, name);
  }

  /**
   * The profile's current status, read through the only verb the sp-server holds on SSOProfiles
   * (patch on /status): an empty merge patch changes nothing and returns the object.
   */
  private async current(namespace: string, name: string): Promise<SSOProfileStatus | undefined> {
    try {
      const res = await this.client.call<{ status?: SSOProfileStatus }>('PATCH', `${this.path(namespace, name)}/status`, { body: {}, contentType: 'application/merge-patch+json' });
      return res.status ?? {};
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private readonly chains = new Map<string, Promise<void>>();

  /** Writes to one profile run one after another, in the order they were asked for. */
  private apply(namespace: string, name: string, kind: string, patch: (current: SSOProfileStatus) => Pick<SSOProfileStatus, 'test' | 'recentFailures'>): Promise<void> {
    const key = `${namespace}/${name}`;
    const run = (this.chains.get(key) ?? Promise.resolve()).then(() => this.applyNow(namespace, name, kind, patch));
    const settled = run.catch(() => undefined);
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return run;
  }

  private async applyNow(namespace: string, name: string, kind: string, patch: (current: SSOProfileStatus) => Pick<SSOProfileStatus, 'test' | 'recentFailures'>): Promise<void> {
    try {
      const current = await this.current(namespace, name);
      if (current === undefined) {
        this.metrics.statusWrites.inc({ kind, result: 'not_found' });
        return;
      }
      const status = patch(current);
      const body = { apiVersion: API_VERSION, kind: ssoProfileKind.kind, metadata: { name, namespace }, status };
      await this.client.apply(`${this.path(namespace, name)}/status`, body, FIELD_MANAGER);
      this.metrics.statusWrites.inc({ kind, result: 'ok' });
    } catch (err) {
      this.metrics.statusWrites.inc({ kind, result: 'error' });
      this.logger.warn({ profile: `${namespace}/${name}`, kind, err: (err as Error).message }, 'status write failed');
      throw err;
    }
  }

  private keep(current: SSOProfileStatus): Pick<SSOProfileStatus, 'test' | 'recentFailures'> {
    const out: Pick<SSOProfileStatus, 'test' | 'recentFailures'> = {};
    if (current.test) {
      const { url: _url, lastPassed: _lastPassed, ...test } = current.test;
      if (Object.keys(test).length > 0) out.test = test;
    }
    if (current.recentFailures) out.recentFailures = current.recentFailures;
    return out;
  }

  private async write(namespace: string, profile: string, s: ProfileState): Promise<void> {
    if (s.writing) await s.writing;
    if (!s.dirty) return;
    s.dirty = false;
    s.lastWrite = Date.now();
    const failures = [...s.failures.values()].reverse();
    s.writing = this.apply(namespace, profile, 'recentFailures', (current) => ({ ...this.keep(current), recentFailures: failures }))
      .catch(() => {
        s.dirty = true;
      })
      .finally(() => (s.writing = undefined));
    await s.writing;
  }

  private readonly lastPending = new Map<string, number>();

  async recordTest(namespace: string, profile: string, test: TestStatus): Promise<void> {
    const key = `${namespace}/${profile}`;
    // Opening the test link is not a result: repeated clicks write Pending at most every few seconds.
    if (test.result === 'Pending') {
      const last = this.lastPending.get(key) ?? 0;
      if (Date.now() - last < 5_000) return;
      this.lastPending.set(key, Date.now());
    }
    const s = this.state(key);
    const failures = s.failures.size ? [...s.failures.values()].reverse() : undefined;
    await this.apply(namespace, profile, 'test', (current) => {
      const kept = this.keep(current);
      return { ...(failures ? { recentFailures: failures } : kept.recentFailures ? { recentFailures: kept.recentFailures } : {}), test };
    }).catch(() => undefined);
  }

  async flush(): Promise<void> {
    for (const [key, s] of this.profiles) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      const [ns, name] = key.split('/') as [string, string];
      await this.write(ns, name, s);
    }
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

/** Keeps everything in memory: unit tests and runs without a cluster. */
export class MemoryStatusSink implements StatusSink {
  readonly failures: Array<{ namespace: string; profile: string; code: string; hint: string }> = [];
  readonly tests: Array<{ namespace: string; profile: string; test: TestStatus }> = [];
  recordFailure(namespace: string, profile: string, code: string, hint: string): void {
    this.failures.push({ namespace, profile, code, hint });
  }
  async recordTest(namespace: string, profile: string, test: TestStatus): Promise<void> {
    this.tests.push({ namespace, profile, test });
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
