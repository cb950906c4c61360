// One connection's provisioning form: JIT on/off with default roles, and role mapping (a group
// attribute and value → roles rules, rows added and removed without script). Parsing checks
// every field with the CRD's own schemas, so a refusal is shown next to its field before the
// API server is asked; the API server's own refusals map back onto the same fields.
import { z } from 'zod';
import { roleName } from '../../crds/api/common.ts';
import type { SSOProfile } from '../../crds/api/index.ts';
import { html, type SafeHtml } from '../../ui/html.ts';
import type { FieldProblem } from '../organization.ts';
import { fieldErrors, inputField } from '../views/forms.ts';

export interface RuleRow {
  value: string;
  roles: string;
}
export interface ProvisioningForm {
  jit: boolean;
  defaultRoles: string;
  attribute: string;
  rules: RuleRow[];
}
type Spec = SSOProfile['spec'];
export interface ProvisioningSpec {
  provisioning: NonNullable<Spec['provisioning']>;
  roleMapping: Spec['roleMapping'];
}

const MAX_ROWS = 256;
const MAX_ROLES = 16;
const text = z.string().max(4096).optional().default('');

export function formOf(p: SSOProfile): ProvisioningForm {
  return {
    jit: p.spec.provisioning?.jit?.enabled ?? false,
    defaultRoles: (p.spec.provisioning?.jit?.defaultRoles ?? []).join(', '),
    attribute: p.spec.roleMapping?.attribute ?? '',
    rules: (p.spec.roleMapping?.rules ?? []).map((r) => ({ value: r.value, roles: r.roles.join(', ') })),
  };
}

/** The posted form, rows marked for removal and blank rows left out. */
export function postedForm(body: unknown): ProvisioningForm {
  const fields = z.record(z.string(), z.union([z.string(), z.array(z.string())])).catch({}).parse(body);
  const one = (k: string) => text.parse(Array.isArray(fields[k]) ? fields[k][0] : fields[k]);
  const rows = Math.min(MAX_ROWS, Number.parseInt(one('rows'), 10) || 0);
  const rules: RuleRow[] = [];
  for (let i = 0; i < rows; i++) {
    if (one(`remove-${i}`)) continue;
    const row = { value: one(`value-${i}`).trim(), roles: one(`roles-${i}`).trim() };
    if (row.value || row.roles) rules.push(row);
  }
  return { jit: one('jit') === 'on', defaultRoles: one('defaultRoles'), attribute: one('attribute').trim(), rules };
}

function roleList(input: string): { roles: string[]; error?: string } {
  const roles = [...new Set(input.split(',').map((r) => r.trim()).filter(Boolean))];
  const bad = roles.find((r) => !roleName.safeParse(r).success);
  if (bad !== undefined) return { roles, error: `“${bad}” is not a role name: lower-case letters, digits and . _ : - (e.g. admin or billing:read), separated by commas.` };
  if (roles.length > MAX_ROLES) return { roles, error: `At most ${MAX_ROLES} roles.` };
  return { roles };
}

/** The spec parts the form sets, or the problems keyed by form field name. */
export function specOf(form: ProvisioningForm): { spec: ProvisioningSpec; errors?: undefined } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const defaults = roleList(form.defaultRoles);
  if (defaults.error) errors.defaultRoles = defaults.error;
  const rules = form.rules.map((r, i) => {
    const roles = roleList(r.roles);
    if (!r.value) errors[`value-${i}`] = 'Enter the group value this rule matches, or clear the row.';
    else if (r.value.length > 512) errors[`value-${i}`] = 'At most 512 characters.';
    if (roles.error) errors[`roles-${i}`] = roles.error;
    else if (roles.roles.length === 0) errors[`roles-${i}`] = 'Enter at least one role for this group.';
    return { value: r.value, roles: roles.roles };
  });
  if (rules.length > 0 && !form.attribute) errors.attribute = 'Enter the attribute (SAML) or claim (OIDC) that carries the groups, e.g. groups.';
  if (form.attribute.length > 512) errors.attribute = 'At most 512 characters.';
  if (Object.keys(errors).length > 0) return { errors };
  return {
    spec: {
      provisioning: { jit: { enabled: form.jit, ...(defaults.roles.length ? { defaultRoles: defaults.roles } : {}) } },
      roleMapping: form.attribute ? { attribute: form.attribute, rules } : undefined,
    },
  };
}

/** The API server's refusals on the form's fields. */
export function apiErrors(problems: readonly FieldProblem[], rows: number): Record<string, string> {
  const map: Record<string, string> = {
    'spec.provisioning': 'jit',
    'spec.provisioning.jit.defaultRoles': 'defaultRoles',
    'spec.roleMapping': 'attribute',
    'spec.roleMapping.attribute': 'attribute',
  };
  for (let i = 0; i < rows; i++) {
    map[`spec.roleMapping.rules[${i}].value`] = `value-${i}`;
    map[`spec.roleMapping.rules[${i}].roles`] = `roles-${i}`;
  }
  return fieldErrors(problems, map);
}

export interface FormRender {
  profile: SSOProfile;
  form: ProvisioningForm;
  errors: Record<string, string>;
  csrf: SafeHtml;
  disabled: SafeHtml | '';
  /** The resourceVersion the form edits (kept across a re-render of posted values). */
  resourceVersion: string;
  /** Blank rows to offer for new rules. */
  blankRows?: number;
}

export function provisioningFormHtml(r: FormRender): SafeHtml {
  const name = r.profile.metadata.name;
  const id = (field: string) => `${name}-${field}`;
  const rows: RuleRow[] = [...r.form.rules, ...Array.from({ length: r.blankRows ?? 1 }, () => ({ value: '', roles: '' }))];
  const jitError = r.errors.jit;
  const rowHtml = rows.map(
    (row, i) =>
      html`<div class="card rule">${inputField({ id: id(`value-${i}`), name: `value-${i}`, label: 'Group value', value: row.value, error: r.errors[`value-${i}`], hint: 'A group name or ID as the identity provider sends it.' })}${inputField({ id: id(`roles-${i}`), name: `roles-${i}`, label: 'Roles', value: row.roles, error: r.errors[`roles-${i}`], hint: 'Comma-separated, e.g. admin, billing:read.' })}${i < r.form.rules.length ? html`<div class="field"><label><input type="checkbox" name="remove-${i}" value="on"> Remove this rule</label></div>` : ''}</div>`,
  );
  return html`<form method="post" action="/provisioning/connections/${name}" class="card" aria-labelledby="${id('title')}">${r.csrf}<input type="hidden" name="rv" value="${r.resourceVersion}"><input type="hidden" name="rows" value="${rows.length}">
<h2 id="${id('title')}">Connection ${name}</h2><fieldset${r.disabled}><legend class="visually-hidden">Provisioning of ${name}</legend>
<div class="field"><label><input type="checkbox" id="${id('jit')}" name="jit" value="on"${r.form.jit ? html` checked` : ''}${jitError ? html` aria-invalid="true" aria-describedby="${id('jit')}-error"` : ''}> Create users on their first sign-in (JIT)</label>${jitError ? html`<span class="field-error" id="${id('jit')}-error">${jitError}</span>` : ''}<span class="hint">An unknown user of a verified domain who signs in through this connection becomes a managed user.</span></div>
${inputField({ id: id('defaultRoles'), name: 'defaultRoles', label: 'Default roles', value: r.form.defaultRoles, error: r.errors.defaultRoles, hint: 'Roles a user created on first sign-in gets, comma-separated.' })}
<fieldset><legend>Role mapping</legend>${inputField({ id: id('attribute'), name: 'attribute', label: 'Group attribute', value: r.form.attribute, error: r.errors.attribute, hint: 'The SAML attribute or OIDC claim carrying the groups, e.g. groups. Leave empty (and remove every rule) for no role mapping.' })}${rowHtml}</fieldset>
<div class="actions"><button type="submit" name="intent" value="save">Save provisioning</button> <button type="submit" name="intent" value="add-row" class="secondary">Add a rule</button></div></fieldset></form>`;
}
