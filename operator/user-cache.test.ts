// The cached ManagedUser keeps exactly what decisions and status writes read.
import { describe, expect, it } from 'vitest';
import type { ManagedUser } from '../crds/api/index.ts';
import { cachedUser } from './user-cache.ts';

const full = {
  apiVersion: 'sso.gatehouse.dev/v1alpha1',
  kind: 'ManagedUser',
  metadata: { name: 'ann', namespace: 'acme', uid: 'u-1', resourceVersion: '42', generation: 3, creationTimestamp: '2026-01-01T00:00:00Z', labels: { team: 'x' }, annotations: { note: 'y' } },
  spec: { email: 'ann@acme.com', displayName: 'Ann', roles: ['admin'], sso: 'Disabled', active: false },
  status: {
    observedGeneration: 3,
    conditions: [{ type: 'Ready', status: 'True', reason: 'Inactive', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 3 }],
    sso: { available: false, enforced: false, reason: 'Inactive', message: 'm', since: '2026-01-01T00:00:00Z' },
  },
} as unknown as ManagedUser;

describe('cachedUser', () => {
  it('keeps identity, version, the spec fields decisions read and the whole status; drops the rest', () => {
    const kept = cachedUser(structuredClone(full));
    expect(kept).toEqual({
      apiVersion: full.apiVersion,
      kind: full.kind,
      metadata: { name: 'ann', namespace: 'acme', resourceVersion: '42', generation: 3 },
      spec: { email: 'ann@acme.com', sso: 'Disabled', active: false },
      status: full.status,
    });
  });

  it('keeps a deletion in progress and a user without status', () => {
    const deleting = cachedUser({ ...structuredClone(full), metadata: { ...full.metadata, deletionTimestamp: '2026-02-01T00:00:00Z' } } as unknown as ManagedUser);
    expect(deleting.metadata.deletionTimestamp).toBe('2026-02-01T00:00:00Z');
    const fresh = structuredClone(full);
    delete fresh.status;
    expect(cachedUser(fresh).status).toBeUndefined();
  });
});
