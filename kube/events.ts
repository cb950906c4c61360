// A core/v1 Event as Gatehouse's components record them: one body shape for the operator's state
// changes and the portal's changes, so `kubectl get events` reads the same for both.
import { randomBytes } from 'node:crypto';

export interface InvolvedObject {
  apiVersion?: string | undefined;
  kind?: string | undefined;
  name: string;
  namespace: string;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
}

export interface EventSource {
  /** source.component, e.g. gatehouse-operator. */
  component: string;
  /** reportingComponent, e.g. sso.gatehouse.dev/operator. */
  reportingComponent: string;
  /** source.host and reportingInstance: the pod. */
  instance: string;
}

/** The Event body for a POST to the object's namespace; the message is cut to 1,024 characters. */
export function eventBody(involved: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string, source: EventSource, now = new Date()): Record<string, unknown> {
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${involved.name}.${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`, namespace: involved.namespace },
    involvedObject: involved,
    reason,
    message: message.slice(0, 1024),
    type,
    source: { component: source.component, host: source.instance },
    reportingComponent: source.reportingComponent,
    reportingInstance: source.instance,
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}
