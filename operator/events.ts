// Kubernetes Events for state changes, best effort: a failed Event never fails a reconcile.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/informer.ts';
import { pathOf } from '../kube/resources.ts';

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly host: string;

  constructor(client: KubeClient, log: Logger, host: string) {
    this.client = client;
    this.log = log;
    this.host = host;
  }

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const ns = obj.metadata.namespace ?? 'default';
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${Date.now().toString(16)}${randomBytes(3).toString('hex')}`, namespace: ns },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: ns, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
      reason,
      message: message.slice(0, 1024),
      type,
      source: { component: 'gatehouse-operator', host: this.host },
      reportingComponent: 'sso.gatehouse.dev/operator',
      reportingInstance: this.host,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    this.client.call('POST', pathOf('Event', ns), { body }).catch((err: unknown) => {
      this.log.warn({ err: err instanceof Error ? err.message : String(err), reason }, 'could not record Event');
    });
  }
}
