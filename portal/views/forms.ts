// Form pieces every screen uses: the CSRF field, labelled inputs with their error next to them
// (aria-invalid + aria-describedby, so screen readers announce it), copyable values, and the
// mapping of the API server's field errors onto form fields.
import type { FastifyRequest } from 'fastify';
import { html, type HtmlValue, type SafeHtml } from '../../ui/html.ts';
import type { FieldProblem } from '../organization.ts';
import { portalOf } from '../session/request-session.ts';

export function csrfField(req: FastifyRequest): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${portalOf(req).session.csrfToken}">`;
}

/** Disables a form's controls in a read-only organization. */
export function disabledIfReadOnly(req: FastifyRequest): SafeHtml | '' {
  return portalOf(req).readOnly ? html` disabled` : '';
}

export interface InputField {
  id: string;
  name: string;
  label: string;
  type?: 'text' | 'email' | 'url' | 'search' | 'number' | 'file' | 'textarea';
  value?: string | undefined;
  hint?: HtmlValue;
  error?: string | undefined;
  required?: boolean;
  placeholder?: string;
  autocomplete?: string;
  accept?: string;
}

export function inputField(f: InputField): SafeHtml {
  const described = [f.hint ? `${f.id}-hint` : '', f.error ? `${f.id}-error` : ''].filter(Boolean).join(' ');
  const common = html`id="${f.id}" name="${f.name}"${f.required ? html` required` : ''}${f.error ? html` aria-invalid="true"` : ''}${described ? html` aria-describedby="${described}"` : ''}${f.placeholder ? html` placeholder="${f.placeholder}"` : ''}${f.autocomplete ? html` autocomplete="${f.autocomplete}"` : ''}`;
  const control =
    f.type === 'textarea'
      ? html`<textarea ${common}>${f.value ?? ''}</textarea>`
      : f.type === 'file'
        ? html`<input type="file" ${common}${f.accept ? html` accept="${f.accept}"` : ''}>`
        : html`<input type="${f.type ?? 'text'}" ${common} value="${f.value ?? ''}">`;
  return html`<div class="field"><label for="${f.id}">${f.label}</label>${control}${f.hint ? html`<span class="hint" id="${f.id}-hint">${f.hint}</span>` : ''}${f.error ? html`<span class="field-error" id="${f.id}-error">${f.error}</span>` : ''}</div>`;
}

/** A value to paste elsewhere, with a copy button (shown once the script runs). */
export function copyable(id: string, value: string, label = 'Copy'): SafeHtml {
  return html`<code id="${id}">${value}</code> <button type="button" class="small secondary" data-copy="${id}" data-label="${label}" hidden>${label}</button>`;
}

/** The API server's field problems, keyed by the form field each belongs to (`map` from path prefix to field name). */
export function fieldErrors(problems: readonly FieldProblem[], map: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of problems) {
    const key = Object.keys(map)
      .sort((a, b) => b.length - a.length)
      .find((prefix) => p.field === prefix || p.field.startsWith(`${prefix}.`) || p.field.startsWith(`${prefix}[`));
    const name = key ? map[key] : undefined;
    if (name && !out[name]) out[name] = p.message;
  }
  return out;
}
