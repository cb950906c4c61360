// Only the exact echo of the operator's own status write is left unreconciled.
import { describe, expect, it } from 'vitest';
import type { ManagedUser, ManagedUserStatus } from '../crds/api/index.ts';
import { OwnStatusWrites } from './own-echo.ts';

const status = (enforced: boolean): ManagedUserStatus => ({
  observedGeneration: 1,
  conditions: [{ type: 'Ready', status: 'True', reason: enforced ? 'DomainEnforced' : 'NotEnforced', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 }],
  sso: { available: true, enforced, reason: enforced ? 'DomainEnforced' : 'NotEnforced', message: 'm', since: '2026-01-01T00:00:00Z', profile: 'okta' },
});
const user = (st: ManagedUserStatus | undefined, generation = 1, email = 'alice@acme.com'): ManagedUser =>
  ({ apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'ManagedUser', metadata: { name: 'alice', namespace: 'acme', generation, resourceVersion: '2' }, spec: { email, active: true, sso: 'Inherit' }, ...(st ? { status: st } : {}) }) as ManagedUser;

describe('OwnStatusWrites', () => {
  it('recognises the echo of the last write once, by value', () => {
    const w = new OwnStatusWrites();
    const sent = status(true);
    w.sending('acme', 'alice', sent);
    expect(w.isEcho(user(structuredClone(sent)), user(status(false)))).toBe(true);
    expect(w.size).toBe(0);
    // The same event again (a resumed watch) is not taken for a second echo.
    expect(w.isEcho(user(structuredClone(sent)), user(status(false)))).toBe(false);
  });

  it('reconciles anything else: another status, a spec edit, no write, a failed write', () => {
    const w = new OwnStatusWrites();
    w.sending('acme', 'alice', status(true));
    expect(w.isEcho(user(status(false)), user(undefined))).toBe(false);
    w.sending('acme', 'alice', status(true));
    expect(w.isEcho(user(status(true), 2), user(status(false), 1))).toBe(false);
    w.sending('acme', 'alice', status(true));
    expect(w.isEcho(user(status(true), 1, 'alice@other.com'), user(status(false)))).toBe(false);
    expect(w.isEcho(user(status(true)), user(status(false)))).toBe(false);
    const failed = status(true);
    w.sending('acme', 'alice', failed);
    w.failed('acme', 'alice', failed);
    expect(w.isEcho(user(status(true)), user(status(false)))).toBe(false);
  });

  it('forgets a deleted user', () => {
    const w = new OwnStatusWrites();
    w.sending('acme', 'alice', status(true));
    w.forget(user(undefined));
    expect(w.size).toBe(0);
  });
});
