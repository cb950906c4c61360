// Kubernetes Events for state changes, best effort: a failed Event never fails a reconcile.
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import { eventBody } from '../kube/events.ts';
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
    const involved = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: ns, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion };
    const body = eventBody(involved, type, reason, message, { component: 'gatehouse-operator', reportingComponent: 'sso.gatehouse.dev/operator', instance: this.host });
    this.client.call('POST', pathOf('Event', ns), { body }).catch((err: unknown) => {
      this.log.warn({ err: err instanceof Error ? err.message : String(err), reason }, 'could not record Event');
    });
  }
}
