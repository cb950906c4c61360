// The SCIM server of bench:scim on a thread of its own, as the sp-server is a process of its own in
// production: the IdP's client and the floor's plain client do not share its event loop.
// It starts the test harness (the SCIM plugin on a loopback port, against the bench's API server),
// creates the organization, and answers the bench's messages: the API-server requests it made per
// verb since the last `reset` and the latencies of its POSTs, and `stop`.
import { parentPort, workerData } from 'node:worker_threads';
import { ScimHarness } from '../test/support/scim.ts';

export type ToServer = { type: 'reset' } | { type: 'counts' } | { type: 'stop' };
export type FromServer =
  | { type: 'ready'; baseURL: string; namespace: string; token: string }
  | { type: 'counts'; requests: Record<string, number>; postMs: number[] }
  | { type: 'stopped' };

const { kubeconfigPath, domain } = workerData as { kubeconfigPath: string; domain: string };
const port = parentPort!;
const requests = new Map<string, number>();
const postMs: number[] = [];
const harness = await ScimHarness.start(kubeconfigPath, {
  onRequest: (e) => {
    requests.set(e.verb, (requests.get(e.verb) ?? 0) + 1);
    if (e.verb === 'post') postMs.push(e.durationSeconds * 1000);
  },
});
const org = await harness.organization('bench', [domain]);
const post = (m: FromServer) => port.postMessage(m);
port.on('message', (m: ToServer) => {
  if (m.type === 'reset') (requests.clear(), (postMs.length = 0));
  else if (m.type === 'counts') post({ type: 'counts', requests: Object.fromEntries(requests), postMs });
  else void harness.stop().then(() => (post({ type: 'stopped' }), port.close()));
});
post({ type: 'ready', baseURL: harness.baseURL, namespace: org.namespace, token: org.token });
