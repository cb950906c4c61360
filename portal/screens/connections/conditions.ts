// A connection's conditions (operator/controllers/sso-profile/*) in the words an IT admin uses:
// one line per check, what it means for their users, and the operator's message as the detail.
import type { SSOProfile } from '../../../crds/api/index.ts';
import { html, type SafeHtml } from '../../../ui/html.ts';
import { ago, badge, conditionOf, type Condition } from '../../views/status.ts';

interface Wording {
  type: string;
  title: string;
  ok: string;
  bad: string;
  pending: string;
  /** Reasons that are not a failure although the status is False (e.g. nothing requested). */
  neutral?: readonly string[];
  oidcOnly?: boolean;
}

const WORDINGS: readonly Wording[] = [
  { type: 'Ready', title: 'Connection', ok: 'Ready: users can sign in through it', bad: 'Not ready', pending: 'Being checked' },
  { type: 'IdPConfigValid', title: 'Identity provider configuration', ok: 'Valid', bad: 'Not usable', pending: 'Being checked' },
  { type: 'CertificateValid', title: 'Signing certificate', ok: 'Valid', bad: 'Problem', pending: 'Not checked yet' },
  { type: 'ClientSecretReady', title: 'Client secret', ok: 'Available', bad: 'Missing', pending: 'Not checked yet', oidcOnly: true },
  { type: 'DomainsVerified', title: 'Domains', ok: 'Verified', bad: 'Not all verified', pending: 'Being checked' },
  { type: 'Tested', title: 'Test sign-in', ok: 'Passed', bad: 'Not passed yet', pending: 'Not tested yet', neutral: ['NotConfigured', 'TestPending'] },
  { type: 'Enforced', title: 'Single sign-on enforcement', ok: 'Enforced', bad: 'Not enforced', pending: 'Not requested', neutral: ['NotRequested', 'InProgress'] },
];

/** Why, in plain words, for the reasons whose operator message needs context. */
const REASON_WORDS: Readonly<Record<string, string>> = {
  MetadataPending: 'Gatehouse is fetching the metadata.',
  MetadataFetchFailed: 'Gatehouse could not fetch the metadata URL. Check that it is correct and reachable from the internet.',
  MetadataInvalid: 'The metadata is malformed or incomplete. Download it again from your identity provider.',
  MetadataExpired: 'The metadata is past its validUntil date. Download current metadata from your identity provider.',
  MetadataUnsigned: 'The metadata carries no signature, but a signing certificate is pinned for it.',
  MetadataSignatureInvalid: 'The metadata signature does not verify with the pinned certificate.',
  InsecureMetadataURL: 'The metadata URL is not https://, so Gatehouse does not fetch it.',
  CertificateInvalid: 'A certificate could not be read.',
  Expired: 'Every signing certificate has expired: add the identity provider\'s current certificate.',
  ExpiringSoon: 'A signing certificate expires soon: add the next one before your identity provider rotates.',
  NotYetValid: 'No signing certificate is valid yet.',
  DomainNotVerified: 'A domain of this connection is not verified yet (see Domains).',
  DomainClaimed: 'A domain of this connection is already served by another connection.',
  TestPending: 'Nobody has signed in through the test link yet.',
  NotConfigured: 'No test user chosen yet.',
  TestFailed: 'The last test sign-in failed.',
  LatestAttemptFailed: 'An earlier test passed; the latest attempt failed.',
  NotRequested: 'Enforcement is not requested (see Enforcement).',
  InProgress: 'Enforcement is being applied to users.',
};

export function isOIDC(p: SSOProfile): boolean {
  return p.spec.oidc !== undefined;
}

function stateBadge(w: Wording, c: Condition | undefined): SafeHtml {
  if (!c || c.status === 'Unknown') return badge('muted', w.pending);
  if (c.status === 'True') return c.reason === 'ExpiringSoon' ? badge('warn', 'Expires soon') : badge('ok', w.ok);
  if (w.neutral?.includes(c.reason ?? '')) return badge('muted', w.pending);
  return badge('bad', w.bad);
}

/** The one-line summary of a connection for the list. */
export function summaryOf(p: SSOProfile): { badge: SafeHtml; text: string } {
  const ready = conditionOf(p.status?.conditions, 'Ready');
  const idp = conditionOf(p.status?.conditions, 'IdPConfigValid');
  if (ready?.status === 'True') return { badge: badge('ok', 'Ready'), text: p.status?.test?.lastPassed ? 'tested' : 'not tested yet' };
  if (!ready || idp?.status === 'Unknown' || !idp) return { badge: badge('muted', 'Being checked'), text: idp?.message ?? 'waiting for Gatehouse to check it' };
  return { badge: badge('bad', 'Needs attention'), text: plainReason(ready) };
}

/** The reason in plain words, then the operator's exact message. */
export function plainReason(c: Condition): string {
  const words = REASON_WORDS[c.reason ?? ''];
  const message = c.message ? `${c.message.charAt(0).toUpperCase()}${c.message.slice(1)}` : '';
  return [words, message].filter(Boolean).join(' ');
}

/** Every condition that applies to this connection, as a definition list. */
export function conditionList(p: SSOProfile): SafeHtml {
  const rows = WORDINGS.filter((w) => !w.oidcOnly || isOIDC(p)).map((w) => {
    const c = conditionOf(p.status?.conditions, w.type);
    return html`<dt>${w.title}</dt><dd id="condition-${w.type}">${stateBadge(w, c)} <span>${c ? plainReason(c) : ''}</span>${c?.lastTransitionTime ? html` <span class="hint">since ${ago(c.lastTransitionTime)}</span>` : ''}</dd>`;
  });
  return html`<dl class="facts">${rows}</dl>`;
}
