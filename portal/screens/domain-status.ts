// A VerifiedDomain's state in words an IT admin can act on, from the conditions the operator
// writes (operator/controllers/verified-domain.ts): Verified, VerificationLapsing, and the
// Conflict reason for a domain another organization verified first.
import type { VerifiedDomain } from '../../crds/api/index.ts';
import { html, type SafeHtml } from '../../ui/html.ts';
import { ago, badge, conditionOf } from '../views/status.ts';

export type DomainState = 'verified' | 'lapsing' | 'conflict' | 'waiting';

export interface DomainStatusView {
  state: DomainState;
  badge: SafeHtml;
  explanation: SafeHtml;
}

export function domainStatus(vd: VerifiedDomain, now = Date.now()): DomainStatusView {
  const conditions = vd.status?.conditions;
  const verified = conditionOf(conditions, 'Verified');
  const lapsing = conditionOf(conditions, 'VerificationLapsing');
  const v = vd.status?.verification;
  const domain = vd.spec.domain;
  if (verified?.status === 'True' && lapsing?.status === 'True') {
    return {
      state: 'lapsing',
      badge: badge('warn', 'Lapsing'),
      explanation: html`The TXT record was not found at the last check (${lapsing.message ?? 'no details'}). ${domain} stays verified until ${ago(v?.lapseTime, now)}; publish the record again before then, or single sign-on stops for its users.`,
    };
  }
  if (verified?.status === 'True') {
    return {
      state: 'verified',
      badge: badge('ok', 'Verified'),
      explanation: html`The TXT record was found${v?.confirmedTime ? html` ${ago(v.confirmedTime, now)}` : ''}. Keep it published: Gatehouse checks it again from time to time, and a domain whose record disappears lapses.`,
    };
  }
  if (verified?.reason === 'Conflict') {
    return {
      state: 'conflict',
      badge: badge('bad', 'Claimed by another organization'),
      explanation: html`Another organization verified ${domain} first. A domain belongs to one organization only, so it cannot be verified here, and publishing the TXT record does not change that. If your company owns ${domain}, ask the support of the application to release it from the other organization (or find out who in your company set it up there); Gatehouse verifies it here as soon as it is released and your TXT record is published.`,
    };
  }
  const waiting = badge('muted', 'Waiting for the TXT record');
  if (!verified || !v?.recordValue) return { state: 'waiting', badge: waiting, explanation: html`Gatehouse is preparing the TXT record for ${domain}. Reload this page in a few seconds.` };
  const next = v.nextCheckTime ? html` The next check is ${ago(v.nextCheckTime, now)}; "Re-check now" checks at once.` : '';
  const because: Record<string, SafeHtml> = {
    RecordNotFound: html`No TXT record was found at ${v.recordName ?? 'the name below'} at the last check. Publish it at your DNS provider; changes can take a few minutes to appear.`,
    RecordMismatch: html`A TXT record exists at ${v.recordName ?? 'the name below'} but with another value (${verified.message ?? ''}). Add the value below exactly (an extra TXT record at the same name is fine).`,
    LookupFailed: html`The DNS lookup failed (${verified.message ?? ''}). This is usually temporary; if it persists, check that your domain's name servers answer.`,
    Lapsed: html`The verification lapsed because the TXT record was no longer found. Publish it again to verify ${domain} again.`,
  };
  return { state: 'waiting', badge: waiting, explanation: html`${because[verified.reason ?? ''] ?? html`${verified.message ?? 'Not verified yet.'}`}${next}` };
}
