// The lease hand-over on a graceful stop, against an in-memory lease with the API server's
// optimistic concurrency. The same path runs for real in test/integration/operator-leader.test.ts;
// this test holds a renewal in flight at the moment of release, which timing alone rarely does.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../kube/client.ts';
import { LeaderElector } from './leader.ts';
import { fakeClient, type ApiCall } from './test-doubles.ts';

interface StoredLease {
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: { holderIdentity?: string | null; renewTime?: string };
}

/** One Lease with resourceVersion checks; `parkNextPut` holds the next PUT at the server until told to let it through. */
function leaseServer() {
  let lease: StoredLease | undefined;
  let version = 0;
  let parked: ((go: () => void) => void) | undefined;
  const conflict = () => new KubeApiError(409, 'Conflict', 'the object has been modified', {});
  const answer = async (c: ApiCall): Promise<unknown> => {
    if (c.method === 'GET') {
      if (!lease) throw new KubeApiError(404, 'NotFound', 'not found', {});
      return structuredClone(lease);
    }
    if (c.method === 'POST') {
      if (lease) throw new KubeApiError(409, 'AlreadyExists', 'exists', {});
      lease = { ...(c.body as StoredLease), metadata: { ...(c.body as StoredLease).metadata, resourceVersion: String(++version) } };
      return structuredClone(lease);
    }
    if (parked) {
      const park = parked;
      parked = undefined;
      await new Promise<void>((go) => park(go));
    }
    const body = c.body as StoredLease;
    if (!lease || body.metadata.resourceVersion !== lease.metadata.resourceVersion) throw conflict();
    lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } };
    return structuredClone(lease);
  };
  return {
    client: fakeClient(answer),
    holder: () => lease?.spec.holderIdentity,
    /** Resolves with a function that lets the parked PUT through, once the next PUT arrives. */
    parkNextPut: () => new Promise<() => void>((r) => (parked = r)),
  };
}

const options = { namespace: 'ns', name: 'lease', identity: 'me', leaseMs: 3000, renewDeadlineMs: 2000, retryMs: 10 };

describe('LeaderElector.release', () => {
  it('waits for a renewal in flight, then hands the lease over', async () => {
    const server = leaseServer();
    const elector = new LeaderElector(server.client.client, options, pino({ level: 'silent' }));
    expect(await elector.acquire()).toBe(true);
    expect(server.holder()).toBe('me');
    const parked = server.parkNextPut();
    const holding = elector.holdUntilLost();
    const letThrough = await parked;
    // The renewal is at the API server; the release starts now and must not beat it.
    const released = elector.release();
    await new Promise((r) => setTimeout(r, 20));
    expect(server.holder()).toBe('me');
    letThrough();
    await released;
    expect(await holding).toBe(false);
    expect(server.holder()).toBeNull();
    const puts = server.client.calls.filter((c) => c.method === 'PUT');
    expect((puts.at(-1)?.body as StoredLease).spec.holderIdentity).toBeNull();
  });

  it('a stop while the lease is being acquired hands over what that attempt won', async () => {
    const server = leaseServer();
    const elector = new LeaderElector(server.client.client, options, pino({ level: 'silent' }));
    // A free lease (no holder) is taken by a PUT, which the server holds.
    await server.client.client.call('POST', 'x', { body: { metadata: { name: 'lease', namespace: 'ns' }, spec: { holderIdentity: null } } });
    const parked = server.parkNextPut();
    const acquiring = elector.acquire();
    const letThrough = await parked;
    const released = elector.release();
    letThrough();
    await released;
    expect(await acquiring).toBe(true);
    expect(server.holder()).toBeNull();
  });

  it('reads the lease again when its release conflicts, and leaves a lease another replica holds', async () => {
    const server = leaseServer();
    const elector = new LeaderElector(server.client.client, options, pino({ level: 'silent' }));
    expect(await elector.acquire()).toBe(true);
    // Another writer moves the lease's version behind the elector's back: the release conflicts once.
    await server.client.client.call('PUT', 'x', { body: { metadata: { name: 'lease', namespace: 'ns', resourceVersion: '1' }, spec: { holderIdentity: 'me' } } });
    await elector.release();
    expect(server.holder()).toBeNull();

    const other = leaseServer();
    const second = new LeaderElector(other.client.client, options, pino({ level: 'silent' }));
    expect(await second.acquire()).toBe(true);
    await other.client.client.call('PUT', 'x', { body: { metadata: { name: 'lease', namespace: 'ns', resourceVersion: '1' }, spec: { holderIdentity: 'someone-else' } } });
    await second.release();
    expect(other.holder()).toBe('someone-else');
  });
});
