// A user's SSO decision (status.sso, written by the operator) in the admin's words.
import type { ManagedUser, SSODecisionReason } from '../../../crds/api/index.ts';
import { html, type SafeHtml } from '../../../ui/html.ts';
import { badge } from '../../views/status.ts';

export const REASON_WORDS: Readonly<Record<SSODecisionReason, string>> = {
  DomainEnforced: 'Single sign-on is enforced on the user\'s domain',
  OverrideEnabled: 'Single sign-on is required for this user (set to Enabled)',
  OverrideDisabled: 'Password login kept for this user (set to Disabled); single sign-on is available',
  ExemptAdmin: 'Exempt administrator: keeps password login',
  DomainNotVerified: 'The user\'s domain is not verified',
  NoProfile: 'No working connection serves the user\'s domain',
  NotEnforced: 'Single sign-on is available but not enforced',
  Inactive: 'Deactivated: no sign-in of any kind',
};

export function decisionBadge(u: ManagedUser): SafeHtml {
  const s = u.status?.sso;
  if (!s) return badge('muted', 'Pending');
  if (s.enforced) return badge(s.available ? 'ok' : 'bad', s.available ? 'SSO required' : 'SSO required, unavailable');
  return badge(s.available ? 'warn' : 'muted', s.available ? 'SSO optional' : 'Password');
}

/** The decision with its reason and the operator's message (for the details). */
export function decisionText(u: ManagedUser): SafeHtml {
  const s = u.status?.sso;
  if (!s) return html`${decisionBadge(u)} <span class="hint">The operator has not decided yet.</span>`;
  return html`${decisionBadge(u)} <span class="hint" title="${s.message ?? ''}">${REASON_WORDS[s.reason]}</span>`;
}
