// The connection form (new, or editing one): the provider with its steps, the connection's name and domains, and
// the IdP configuration in one of three ways. Errors sit next to their field; the admin's input
// stays (except the file, which browsers never send back).
import type { FastifyRequest } from 'fastify';
import { html, type SafeHtml } from '../../../ui/html.ts';
import { portalOf } from '../../session/request-session.ts';
import { csrfField, disabledIfReadOnly, inputField } from '../../views/forms.ts';
import type { ConnectionForm, FormErrors, IdPSource } from './idp-form.ts';
import { expectedSPValues, PROVIDERS, type Provider } from './providers.ts';

export interface DomainChoice {
  domain: string;
  verified: boolean;
}

const SOURCES: readonly { id: IdPSource; label: string }[] = [
  { id: 'url', label: 'Metadata URL' },
  { id: 'upload', label: 'Upload metadata XML' },
  { id: 'manual', label: 'Enter manually' },
];

const checked = (on: boolean) => (on ? html` checked` : '');
const fieldError = (id: string, error: string | undefined) => (error ? html`<span class="field-error" id="${id}-error">${error}</span>` : '');
const describedBy = (id: string, error: string | undefined) => (error ? html` aria-describedby="${id}-error"` : '');

/** Editing an existing connection: its name is fixed, and the save refuses a spec changed since the form was shown. */
export interface EditMode {
  generation: number;
  /** Uploaded metadata is kept when no new file is chosen. */
  hasUploadedMetadata: boolean;
}

export function connectionForm(o: { form: ConnectionForm; errors: FormErrors; domains: readonly DomainChoice[]; spServerURL: string | undefined; req: FastifyRequest; edit?: EditMode }): SafeHtml {
  const { form, errors, req } = o;
  const namespace = portalOf(req).session.namespace;
  const provider = PROVIDERS.find((p) => p.id === form.provider) ?? (PROVIDERS[0] as Provider);
  const name = form.name || provider.defaultName;
  const sp = o.spServerURL && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) ? expectedSPValues(o.spServerURL, namespace, name) : undefined;
  const disabled = disabledIfReadOnly(req);
  const providers = PROVIDERS.map(
    (p) => html`<div class="card"><label><input type="radio" name="provider" value="${p.id}"${checked(p.id === provider.id)} aria-describedby="steps-${p.id}"${disabled}> ${p.label}</label>
      <details id="steps-${p.id}"${p.id === provider.id ? html` open` : ''}><summary>Steps in ${p.label}</summary>${p.steps(sp)}</details></div>`,
  );
  const domainBoxes = o.domains.length
    ? o.domains.map(
        (d, i) => html`<div><label><input type="checkbox" name="domains" value="${d.domain}"${checked(form.domains.includes(d.domain))}${describedBy('domains', errors.domains)}${disabled}> ${d.domain}</label>${d.verified ? '' : html` <span class="hint" id="domain-state-${i}">not verified yet: the connection serves it once it is</span>`}</div>`,
      )
    : html`<p>This organization has no domains yet. <a href="/domains">Add and verify a domain</a> first.</p>`;
  const edit = o.edit;
  const action = edit ? `/connections/${form.name}/edit` : '/connections/new';
  const fileHint = errors.metadataFile ? 'Choose the file again.' : edit?.hasUploadedMetadata ? 'With “Upload metadata XML”: leave empty to keep the metadata uploaded before, or choose a new file (at most 256 KiB).' : 'With “Upload metadata XML”: the file from your identity provider (at most 256 KiB).';
  return html`<form method="post" action="${action}" enctype="multipart/form-data">${csrfField(req)}${edit ? html`<input type="hidden" name="generation" value="${edit.generation}">` : ''}
    <fieldset><legend>Identity provider</legend>${providers}${fieldError('provider', errors.provider)}</fieldset>
    ${
      sp
        ? html`<div class="card"><h2>Values your identity provider asks for</h2><dl class="facts"><dt>SP entity ID (Audience)</dt><dd><code>${sp.entityID}</code></dd><dt>ACS URL (Reply URL)</dt><dd><code>${sp.acsURL}</code></dd><dt>SP metadata URL</dt><dd><code>${sp.metadataURL}</code></dd></dl><p class="hint">For the connection name “${name}”; the connection's page shows them again with copy buttons.</p></div>`
        : ''
    }
    ${edit ? '' : inputField({ id: 'name', name: 'name', label: 'Connection name', value: name, error: errors.name, required: true, hint: 'Lower-case letters, digits and hyphens; it becomes part of the URLs above.' })}
    <fieldset><legend>Domains</legend>${domainBoxes}${fieldError('domains', errors.domains)}<span class="hint">Users with an address in these domains sign in through this connection.</span></fieldset>
    <fieldset><legend>IdP configuration</legend>${SOURCES.map((s) => html`<label><input type="radio" name="source" value="${s.id}"${checked(form.source === s.id)}${disabled}> ${s.label}</label>`)}${fieldError('source', errors.source)}</fieldset>
    ${inputField({ id: 'metadataURL', name: 'metadataURL', label: 'IdP metadata URL', type: 'url', value: form.metadataURL, error: errors.metadataURL, placeholder: 'https://', hint: 'With “Metadata URL”: Gatehouse fetches it now and refreshes it every hour.' })}
    ${inputField({ id: 'metadataFile', name: 'metadataFile', label: 'Metadata file', type: 'file', accept: '.xml,application/xml,text/xml,application/samlmetadata+xml', error: errors.metadataFile, hint: fileHint })}
    ${inputField({ id: 'entityID', name: 'entityID', label: 'IdP entity ID', value: form.entityID, error: errors.entityID, hint: 'With “Enter manually”: the identity provider\'s entity ID (Issuer).' })}
    ${inputField({ id: 'ssoURL', name: 'ssoURL', label: 'SSO URL', type: 'url', value: form.ssoURL, error: errors.ssoURL, placeholder: 'https://', hint: 'Its single sign-on URL (HTTP-Redirect binding).' })}
    ${inputField({ id: 'certificate', name: 'certificate', label: 'Signing certificate (PEM)', type: 'textarea', value: form.certificate, error: errors.certificate, hint: 'From -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.' })}
    <div class="actions"><button type="submit"${disabled}>${edit ? 'Save changes' : 'Create connection'}</button> <a href="${edit ? `/connections/${form.name}` : '/connections'}">Cancel</a></div>
  </form>`;
}
