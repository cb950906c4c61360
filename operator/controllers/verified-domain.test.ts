// The VerifiedDomain reconcile over a fake DNS and clock: signing, re-verification, lapsing, lapse, forged status, recheck, conflict.
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RECHECK_ANNOTATION, type VerifiedDomain, type VerifiedDomainStatus } from '../../crds/api/index.ts';
import { loadConfig } from '../config.ts';
import type { Context } from '../context.ts';
import { isProven } from '../domain-proof.ts';
import { cacheOf, fakeClient, provenDomain, TEST_PROOF_KEY } from '../test-doubles.ts';
import { reconcileVerifiedDomain } from './verified-domain.ts';

const TOKEN = 'gatehouse-domain-verification=t';
const HOUR = 3_600_000;

function domainWith(status?: VerifiedDomainStatus, recheck?: string): VerifiedDomain {
  const annotations = recheck !== undefined ? { annotations: { [RECHECK_ANNOTATION]: recheck } } : {};
  return { apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'VerifiedDomain', metadata: { name: 'acme-com', namespace: 'acme', uid: 'u1', generation: 1, ...annotations }, spec: { domain: 'acme.com' }, status: status ?? { verification: { recordValue: TOKEN } } } as VerifiedDomain;
}
/** The same domain with its recheck annotation set to `value`. */
const withRecheck = (vd: VerifiedDomain, value: string) => domainWith(vd.status, value);

/** What one operator process remembers between reconciles, and the names it looked up. */
const processMemory = () => ({ dnsAttempts: new Map<string, number>(), domainLookups: new Map<string, number>(), lookups: [] as string[] });

/** One reconcile at `at` with DNS answering `txt`: the status it wrote (or undefined) and the Events. */
async function reconcileAt(at: string, vd: VerifiedDomain, txt: string[], o: { memory?: ReturnType<typeof processMemory>; args?: string[]; others?: VerifiedDomain[] } = {}) {
  vi.setSystemTime(new Date(at));
  const { client, calls } = fakeClient();
  const events: { type: string; reason: string }[] = [];
  const eventMessages: string[] = [];
  const memory = o.memory ?? processMemory();
  const ctx = {
    config: loadConfig(['--namespace=gatehouse', '--sp-public-url=https://sso.example', ...(o.args ?? [])], {}),
    client,
    log: pino({ level: 'silent' }),
    events: { record: (_o: unknown, type: string, reason: string, message: string) => events.push({ type, reason }) && eventMessages.push(message) },
    resolver: {
      resolveTxt: async (name: string) => {
        memory.lookups.push(name);
        return txt.map((t) => [t]);
      },
    },
    domains: cacheOf([vd, ...(o.others ?? [])]),
    dnsAttempts: memory.dnsAttempts,
    domainLookups: memory.domainLookups,
    domainProofKey: TEST_PROOF_KEY,
  } as unknown as Context;
  const result = await reconcileVerifiedDomain(ctx, { kind: 'VerifiedDomain', namespace: 'acme', name: 'acme-com' });
  const status = (calls[0]?.body as { status?: VerifiedDomainStatus } | undefined)?.status;
  return { status, next: status ? domainWith(status, vd.metadata.annotations?.[RECHECK_ANNOTATION]) : vd, events, eventMessages, result };
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

  it('looks one domain up at most once per recheck interval, whatever rewrote its status or spec', async () => {
    vi.useFakeTimers();
    const memory = processMemory();
    const first = await reconcileAt('2026-01-01T00:00:00Z', domainWith(), [], { memory });
    expect(memory.lookups).toHaveLength(1);
    expect(first.status?.verification?.nextCheckTime).toBe('2026-01-01T00:00:10Z');
    // Whoever may write status moves the next check to the past: it waits for the interval all the same.
    const pulled = { ...first.status, verification: { ...first.status?.verification, nextCheckTime: '2026-01-01T00:00:01Z' } };
    const early = await reconcileAt('2026-01-01T00:00:02Z', domainWith(pulled), [TOKEN], { memory });
    expect(early.status).toBeUndefined();
    expect(early.result.requeueAfterMs).toBe(8000);
    // A spec edit (a new generation) waits too, no longer than the rest of the interval.
    const edited = domainWith(first.status);
    edited.metadata.generation = 2;
    const respecced = await reconcileAt('2026-01-01T00:00:09Z', edited, [TOKEN], { memory });
    expect(respecced.status).toBeUndefined();
    expect(respecced.result.requeueAfterMs).toBe(1000);
    expect(memory.lookups).toHaveLength(1);
    // Once the interval has passed the look-up runs and its answer is written.
    const due = await reconcileAt('2026-01-01T00:00:10Z', edited, [TOKEN], { memory });
    expect(memory.lookups).toHaveLength(2);
    expect(cond(due.status, 'Verified')).toMatchObject({ status: 'True', reason: 'Verified' });
    expect(due.status?.observedGeneration).toBe(2);
  });

  describe('the recheck annotation', () => {
    // A long schedule, so that only the annotation can explain a look-up.
    const args = ['--domain-recheck-interval=1h', '--domain-recheck-max-interval=4h'];

    it('a new value looks the record up before the scheduled check, with the same outcome; an answered value never again', async () => {
      vi.useFakeTimers();
      const memory = processMemory();
      const first = await reconcileAt('2026-01-01T00:00:00Z', domainWith(), [], { memory, args });
      expect(cond(first.status, 'Verified')).toMatchObject({ status: 'False', reason: 'RecordNotFound' });
      expect(first.status?.verification?.nextCheckTime).toBe('2026-01-01T01:00:00Z');
      // The record is published: without the annotation the operator keeps to its schedule.
      const waiting = await reconcileAt('2026-01-01T00:01:00Z', first.next, [TOKEN], { memory, args });
      expect(waiting.status).toBeUndefined();
      expect(memory.lookups).toHaveLength(1);

      const asked = await reconcileAt('2026-01-01T00:01:00Z', withRecheck(first.next, 'r1'), [TOKEN], { memory, args });
      expect(memory.lookups).toEqual(['_gatehouse-challenge.acme.com', '_gatehouse-challenge.acme.com']);
      expect(cond(asked.status, 'Verified')).toMatchObject({ status: 'True', reason: 'Verified' });
      expect(asked.status?.verification).toMatchObject({ handledRecheck: 'r1', lastCheckedTime: '2026-01-01T00:01:00Z', verifiedTime: '2026-01-01T00:01:00Z' });
      expect(isProven(TEST_PROOF_KEY, asked.next, new Date('2026-01-01T00:01:00Z'))).toBe(true);
      expect(asked.events).toContainEqual({ type: 'Normal', reason: 'Verified' });

      // Its own status write comes back with the value answered, also to a restarted operator.
      for (const m of [memory, processMemory()]) {
        const again = await reconcileAt('2026-01-01T00:05:00Z', asked.next, [], { memory: m, args });
        expect(again.status).toBeUndefined();
      }
      expect(memory.lookups).toHaveLength(2);
      // On a verified domain, a new value re-verifies at once: the record is gone, so it is lapsing.
      const reverified = await reconcileAt('2026-01-01T00:05:00Z', withRecheck(asked.next, 'r2'), [], { memory, args });
      expect(cond(reverified.status, 'VerificationLapsing')).toMatchObject({ status: 'True', reason: 'RecordNotFound' });
      expect(reverified.events).toContainEqual({ type: 'Warning', reason: 'VerificationLapsing' });
      expect(reverified.status?.verification?.handledRecheck).toBe('r2');
    });

    it('looks up at most once per 10 s per domain however fast the value changes, across restarts and rewritten status', async () => {
      vi.useFakeTimers();
      const memory = processMemory();
      const first = await reconcileAt('2026-01-01T00:00:00Z', domainWith(), [], { memory, args });
      const tooSoon = await reconcileAt('2026-01-01T00:00:04Z', withRecheck(first.next, 'r1'), [], { memory, args });
      expect(tooSoon.status).toBeUndefined();
      expect(tooSoon.result.requeueAfterMs).toBe(6000);
      expect(memory.lookups).toHaveLength(1);

      const spaced = await reconcileAt('2026-01-01T00:00:10Z', withRecheck(first.next, 'r1'), [], { memory, args });
      expect(memory.lookups).toHaveLength(2);
      expect(spaced.status?.verification).toMatchObject({ handledRecheck: 'r1', lastCheckedTime: '2026-01-01T00:00:10Z' });
      // A look-up asked for does not push the schedule out (a scheduled one would have: 2h).
      expect(spaced.status?.verification?.nextCheckTime).toBe('2026-01-01T01:00:10Z');

      // Status rewritten without the last look-up: this process still remembers it.
      const { lastCheckedTime: _dropped, ...forgotten } = spaced.status?.verification ?? {};
      const rewritten = await reconcileAt('2026-01-01T00:00:15Z', domainWith({ ...spaced.status, verification: forgotten }, 'r2'), [], { memory, args });
      expect(rewritten.status).toBeUndefined();
      expect(rewritten.result.requeueAfterMs).toBe(5000);
      // A restarted operator goes by status.
      const restarted = processMemory();
      const afterRestart = await reconcileAt('2026-01-01T00:00:15Z', withRecheck(spaced.next, 'r2'), [], { memory: restarted, args });
      expect(afterRestart.status).toBeUndefined();
      expect(afterRestart.result.requeueAfterMs).toBe(5000);
      expect(restarted.lookups).toHaveLength(0);
      expect(memory.lookups).toHaveLength(2);
    });

    it('keeps a long value as its digest, and an answered long value asks for nothing', async () => {
      vi.useFakeTimers();
      const memory = processMemory();
      const long = 'x'.repeat(5000);
      const first = await reconcileAt('2026-01-01T00:00:00Z', domainWith(undefined, long), [], { memory, args });
      expect(first.status?.verification?.handledRecheck).toMatch(/^sha256:[0-9a-f]{64}$/);
      const later = await reconcileAt('2026-01-01T00:10:00Z', first.next, [], { memory, args });
      expect(later.status).toBeUndefined();
      expect(memory.lookups).toHaveLength(1);
    });
  });

  it('a conflict tells the admin how to end it, without naming the other organization', async () => {
    vi.useFakeTimers();
    const memory = processMemory();
    const rival = provenDomain('acme.com', 'rival-org');
    const conflict = await reconcileAt('2026-01-02T00:00:00Z', domainWith(undefined, 'r1'), [TOKEN], { memory, others: [rival] });
    const verified = cond(conflict.status, 'Verified');
    expect(verified).toMatchObject({ status: 'False', reason: 'Conflict' });
    expect(verified?.message).toContain('acme.com is already verified by another organization');
    expect(verified?.message).toContain(`remove every TXT record at _gatehouse-challenge.acme.com except '${TOKEN}'`);
    expect(verified?.message).toContain('lapses within about 72h');
    expect(verified?.message).not.toContain('rival-org');
    expect(conflict.events).toContainEqual({ type: 'Warning', reason: 'Conflict' });
    expect(conflict.eventMessages).toContain(verified?.message);
    // A recheck while in conflict is answered without asking DNS.
    expect(conflict.status?.verification?.handledRecheck).toBe('r1');
    expect(memory.lookups).toHaveLength(0);
  });
});
