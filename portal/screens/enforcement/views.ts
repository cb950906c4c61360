// The enforcement screen's pages: the form (connection, domains, exempt administrators, what
// happens to addresses that are not managed users), the review that states the count, and the
// live progress of the operator's enforcement.
import type { FastifyRequest } from 'fastify';
import type { SSOProfile, UnmanagedUserPolicy } from '../../../crds/api/index.ts';
import { html, type HtmlValue, type SafeHtml } from '../../../ui/html.ts';
import { notice } from '../../views/frame.ts';
import { csrfField, disabledIfReadOnly, inputField } from '../../views/forms.ts';
import type { Forecast } from './forecast.ts';

export interface EnforcementFormValues {
  connection: string;
  domains: string[];
  exempt: string;
  unmanagedUsers: UnmanagedUserPolicy;
  generation: string;
}

/** The exempt addresses typed one per line (commas and spaces separate too). */
export function exemptList(text: string): string[] {
  return text.split(/[\s,;]+/).filter((e) => e !== '');
}

export type EnforcementErrors = Partial<Record<'domains' | 'exempt' | 'form', string>>;

/** When several connections exist: which one to enforce through. */
export function connectionPicker(profiles: readonly SSOProfile[], current: string): SafeHtml {
  if (profiles.length < 2) return html``;
  return html`<form method="get" action="/enforcement" class="card"><div class="field"><label for="connection-pick">Connection</label><select id="connection-pick" name="connection">${profiles.map(
    (p) => html`<option value="${p.metadata.name}"${p.metadata.name === current ? html` selected` : ''}>${p.spec.displayName ?? p.metadata.name} (${p.spec.domains.join(', ')})</option>`,
  )}</select></div><button type="submit" class="secondary">Choose connection</button></form>`;
}

function hiddenValues(v: EnforcementFormValues): SafeHtml {
  return html`<input type="hidden" name="connection" value="${v.connection}"><input type="hidden" name="generation" value="${v.generation}">`;
}

export function enforcementForm(req: FastifyRequest, profile: SSOProfile, v: EnforcementFormValues, errors: EnforcementErrors, selfWarning?: string): SafeHtml {
  const domainError = errors.domains ? html`<span class="field-error" id="domains-error">${errors.domains}</span>` : '';
  const policy = (value: UnmanagedUserPolicy, label: string, hint: string) =>
    html`<label><input type="radio" name="unmanagedUsers" value="${value}"${v.unmanagedUsers === value ? html` checked` : ''} aria-describedby="unmanaged-${value}-hint"> ${label}</label><span class="hint" id="unmanaged-${value}-hint">${hint}</span>`;
  return html`${errors.form ? notice('error', errors.form) : ''}${selfWarning ? notice('warn', html`<p>${selfWarning}</p>`) : ''}
<form method="post" action="/enforcement/review" class="card">${csrfField(req)}${hiddenValues(v)}
${selfWarning ? html`<input type="hidden" name="acknowledgeSelfRemoval" value="yes">` : ''}
<fieldset${errors.domains ? html` aria-describedby="domains-error"` : ''}><legend>Domains to enforce</legend>${profile.spec.domains.map(
    (d) => html`<label><input type="checkbox" name="domains" value="${d}"${v.domains.includes(d) ? html` checked` : ''}> ${d}</label>`,
  )}${domainError}</fieldset>
${inputField({ id: 'exempt', name: 'exempt', label: 'Exempt administrators', type: 'textarea', value: v.exempt, error: errors.exempt, hint: 'One email per line. They keep password login, so an administrator can still get in if the identity provider fails.' })}
<fieldset><legend>Addresses that are not managed users</legend>${policy('Refuse', 'Refuse a password', 'They can only sign in with single sign-on where just-in-time provisioning creates them.')}${policy('Allow', 'Allow password login', 'Only managed users are required to use single sign-on.')}</fieldset>
<div class="actions"><button type="submit"${disabledIfReadOnly(req)}>${selfWarning ? 'Review without me exempt' : 'Review'}</button></div></form>`;
}

export function removalSection(req: FastifyRequest, profile: SSOProfile): SafeHtml {
  if (!profile.spec.enforcement?.domains.length) return html``;
  return html`<section class="card"><h2>Stop enforcing</h2><p>Single sign-on is requested on ${profile.spec.enforcement.domains.join(', ')}.</p>
<form method="get" action="/enforcement/remove"><input type="hidden" name="connection" value="${profile.metadata.name}"><button type="submit" class="secondary"${disabledIfReadOnly(req)}>Remove enforcement</button></form></section>`;
}

const REASON_WORDS: Readonly<Record<string, string>> = {
  ExemptAdmin: 'exempt administrators',
  OverrideDisabled: 'users whose single sign-on is set to Disabled',
  Inactive: 'deactivated users',
  DomainNotVerified: 'users of a domain that is not verified',
  NoProfile: 'users no valid connection serves',
  NotEnforced: 'users not enforced',
};

export function reviewPage(req: FastifyRequest, profile: SSOProfile, v: EnforcementFormValues, f: Forecast, unmanaged: HtmlValue): SafeHtml {
  const kept = Object.entries(f.kept).map(([reason, n]) => html`<li>${n} ${REASON_WORDS[reason] ?? reason} keep their current sign-in</li>`);
  const blocked = f.blockers.length
    ? notice(
        'warn',
        html`<p><strong>Enforcement would be Blocked</strong> until this is fixed; nothing changes for users meanwhile:</p><ul>${f.blockers.map((b) => html`<li>${b.message}</li>`)}</ul>`,
      )
    : '';
  return html`${blocked}<section class="card"><h2>${profile.spec.displayName ?? profile.metadata.name}: ${v.domains.join(', ')}</h2>
<p class="lead" id="enforce-count"><strong>${f.enforced} users will be required to sign in with single sign-on</strong> (of ${f.matched} users of ${v.domains.join(', ')}).</p>
${kept.length ? html`<ul>${kept}</ul>` : ''}<p>${unmanaged}</p>
<p>Exempt administrators: ${exemptList(v.exempt).join(', ') || 'none'}.</p>
<form method="post" action="/enforcement/apply">${csrfField(req)}${hiddenValues(v)}${v.domains.map((d) => html`<input type="hidden" name="domains" value="${d}">`)}<input type="hidden" name="exempt" value="${exemptList(v.exempt).join(',')}"><input type="hidden" name="unmanagedUsers" value="${v.unmanagedUsers}"><input type="hidden" name="acknowledgeSelfRemoval" value="yes">
<div class="actions"><button type="submit"${disabledIfReadOnly(req)}>Enforce single sign-on</button> <a href="/enforcement?connection=${profile.metadata.name}">Change the selection</a></div></form></section>`;
}

export function removalConfirmation(req: FastifyRequest, profile: SSOProfile): SafeHtml {
  return html`<section class="card"><p>Users of ${(profile.spec.enforcement?.domains ?? []).join(', ')} will be able to sign in with a password again. Users whose single sign-on is set to Enabled stay required to use it.</p>
<form method="post" action="/enforcement/remove">${csrfField(req)}<input type="hidden" name="connection" value="${profile.metadata.name}"><input type="hidden" name="generation" value="${profile.metadata.generation ?? ''}">
<div class="actions"><button type="submit" class="danger"${disabledIfReadOnly(req)}>Remove enforcement</button> <a href="/enforcement?connection=${profile.metadata.name}">Cancel</a></div></form></section>`;
}

/** The operator's progress, refreshed by ui/client.js from the JSON route. */
export function progressRegion(name: string, initial: { text: string; value: number; max: number; message: string }): SafeHtml {
  return html`<section class="card" data-live="/enforcement/${name}/progress.json" aria-live="polite">
<p><progress aria-label="Enforcement progress" data-field="progress" value="${initial.value}" max="${initial.max}"></progress></p>
<p><strong data-field="text" id="enforcement-phase">${initial.text}</strong></p><p class="hint" data-field="message">${initial.message}</p></section>`;
}
