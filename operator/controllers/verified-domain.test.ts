// The VerifiedDomain reconcile over a fake DNS and clock: signing, re-verification, lapsing, lapse, forged status.
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { VerifiedDomain, VerifiedDomainStatus } from '../../crds/api/index.ts';
import { loadConfig } from '../config.ts';
import type { Context } from '../context.ts';
import { isProven } from '../domain-proof.ts';
import { cacheOf, fakeClient, TEST_PROOF_KEY } from '../test-doubles.ts';
import { reconcileVerifiedDomain } from './verified-domain.ts';

const TOKEN = 'gatehouse-domain-verification=t';
const HOUR = 3_600_000;

function domainWith(status?: VerifiedDomainStatus): VerifiedDomain {
  return { apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'VerifiedDomain', metadata: { name: 'acme-com', namespace: 'acme', uid: 'u1', generation: 1 }, spec: { domain: 'acme.com' }, status: status ?? { verification: { recordValue: TOKEN } } } as VerifiedDomain;
}

/** One reconcile at `at` with DNS answering `txt`: the status it wrote (or undefined) and the Events. */
async function reconcileAt(at: string, vd: VerifiedDomain, txt: string[]) {
  vi.setSystemTime(new Date(at));
  const { client, calls } = fakeClient();
  const events: { type: string; reason: string }[] = [];
  const ctx = {
    config: loadConfig(['--namespace=gatehouse', '--sp-public-url=https://sso.example'], {}),
    client,
    log: pino({ level: 'silent' }),
    events: { record: (_o: unknown, type: string, reason: string) => events.push({ type, reason }) },
    resolver: { resolveTxt: async () => txt.map((t) => [t]) },
    domains: cacheOf([vd]),
    dnsAttempts: new Map(),
    domainProofKey: TEST_PROOF_KEY,
  } as unknown as Context;
  const result = await reconcileVerifiedDomain(ctx, { kind: 'VerifiedDomain', namespace: 'acme', name: 'acme-com' });
  const status = (calls[0]?.body as { status?: VerifiedDomainStatus } | undefined)?.status;
  return { status, next: status ? domainWith(status) : vd, events, result };
}
const cond = (s: VerifiedDomainStatus | undefined, type: string) => s?.conditions?.find((c) => c.type === type);

describe('VerifiedDomain reconcile', () => {
  afterEach(() => void vi.useRealTimers());

  it('signs a verification, re-verifies it daily, warns while the record is missing, lapses after the grace period', async () => {
    vi.useFakeTimers();
    const first = await reconcileAt('2026-01-01T00:00:00Z', domainWith(), [TOKEN]);
    expect(cond(first.status, 'Verified')).toMatchObject({ status: 'True', reason: 'Verified' });
    expect(first.status?.verification).toMatchObject({ verifiedTime: '2026-01-01T00:00:00Z', confirmedTime: '2026-01-01T00:00:00Z', lapseTime: '2026-01-04T00:00:00Z' });
    expect(isProven(TEST_PROOF_KEY, first.next, new Date('2026-01-01T00:00:00Z'))).toBe(true);
    expect(first.result.requeueAfterMs).toBe(24 * HOUR);

    // Before the re-verification is due, DNS is not asked again.
    const early = await reconcileAt('2026-01-01T12:00:00Z', first.next, []);
    expect(early.status).toBeUndefined();
    expect(early.result.requeueAfterMs).toBe(12 * HOUR);

    const lapsing = await reconcileAt('2026-01-02T00:00:01Z', first.next, []);
    expect(cond(lapsing.status, 'Verified')).toMatchObject({ status: 'True', reason: 'Verified' });
    expect(cond(lapsing.status, 'VerificationLapsing')).toMatchObject({ status: 'True', reason: 'RecordNotFound' });
    expect(cond(lapsing.status, 'VerificationLapsing')?.message).toContain('lapses at 2026-01-04T00:00:00Z');
    expect(lapsing.events).toContainEqual({ type: 'Warning', reason: 'VerificationLapsing' });
    expect(isProven(TEST_PROOF_KEY, lapsing.next, new Date('2026-01-03T23:59:59Z'))).toBe(true);

    const lapsed = await reconcileAt('2026-01-04T00:00:01Z', lapsing.next, []);
    expect(cond(lapsed.status, 'Verified')).toMatchObject({ status: 'False', reason: 'Lapsed' });
    expect(cond(lapsed.status, 'Ready')).toMatchObject({ status: 'False', reason: 'Lapsed' });
    expect(lapsed.events).toContainEqual({ type: 'Warning', reason: 'Lapsed' });
    expect(isProven(TEST_PROOF_KEY, lapsed.next, new Date('2026-01-04T00:00:01Z'))).toBe(false);

    // The record is back: verified again, with a fresh proof.
    const back = await reconcileAt('2026-01-05T00:00:00Z', lapsed.next, [TOKEN]);
    expect(cond(back.status, 'Verified')).toMatchObject({ status: 'True', reason: 'Verified' });
    expect(isProven(TEST_PROOF_KEY, back.next, new Date('2026-01-05T00:00:00Z'))).toBe(true);
  });

  it('a found record during the grace period clears the warning and extends the lapse time', async () => {
    vi.useFakeTimers();
    const first = await reconcileAt('2026-01-01T00:00:00Z', domainWith(), [TOKEN]);
    const lapsing = await reconcileAt('2026-01-02T00:00:01Z', first.next, []);
    const again = await reconcileAt('2026-01-02T06:00:00Z', lapsing.next, [TOKEN]);
    expect(cond(again.status, 'VerificationLapsing')).toMatchObject({ status: 'False', reason: 'NotLapsing' });
    expect(again.status?.verification).toMatchObject({ verifiedTime: '2026-01-01T00:00:00Z', confirmedTime: '2026-01-02T06:00:00Z', lapseTime: '2026-01-05T06:00:00Z' });
  });

  it('a Verified=True the operator did not sign is corrected at once, even with a far nextCheckTime', async () => {
    vi.useFakeTimers();
    const forged = domainWith({
      observedGeneration: 1,
      conditions: [{ type: 'Verified', status: 'True', reason: 'Verified', message: 'trust me', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      verification: { recordValue: TOKEN, verifiedTime: '2026-01-01T00:00:00Z', confirmedTime: '2026-01-01T00:00:00Z', lapseTime: '2099-01-01T00:00:00Z', proof: 'v1.forged', nextCheckTime: '2099-01-01T00:00:00Z' },
    });
    const fixed = await reconcileAt('2026-01-01T00:00:10Z', forged, []);
    expect(cond(fixed.status, 'Verified')).toMatchObject({ status: 'False', reason: 'RecordNotFound' });
    expect(fixed.status?.verification?.proof).toBeUndefined();
  });
});
