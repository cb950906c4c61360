// One user: their SSO decision and why, and the admin's changes — per-user SSO (Inherit, Enabled,
// Disabled), roles, activate/deactivate — saved by server-side apply of only what changed, from the
// version the form showed. A field another manager (SCIM, GitOps) holds is reported, not taken.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { roleName, SSO_OVERRIDES, type ManagedUser, type ManagedUserSpec, type SSOOverride } from '../../../crds/api/index.ts';
import { html } from '../../../ui/html.ts';
import type { PortalContext, RouteOptions } from '../../context.ts';
import { PortalWriteError } from '../../organization.ts';
import { applySpecEdit } from '../../spec-edit.ts';
import { portalOf } from '../../session/request-session.ts';
import { isObjectName } from '../object-name.ts';
import { notice, redirectWithNotice, renderScreen, sendHTML } from '../../views/frame.ts';
import { csrfField, disabledIfReadOnly, fieldErrors, inputField } from '../../views/forms.ts';
import { decisionText } from './decision.ts';

const userForm = z.object({
  sso: z.enum(SSO_OVERRIDES),
  roles: z.string().max(64 * 64).default(''),
  active: z.string().optional(),
  generation: z.coerce.number().int().min(0).optional().catch(undefined),
});

interface UserValues {
  sso: SSOOverride;
  roles: string;
  active: boolean;
  generation: string;
}
type UserErrors = Partial<Record<'sso' | 'roles' | 'active', string>>;

const valuesOf = (u: ManagedUser): UserValues => ({ sso: u.spec.sso ?? 'Inherit', roles: (u.spec.roles ?? []).join(', '), active: u.spec.active !== false, generation: String(u.metadata.generation ?? '') });

export function parseRoles(text: string): { roles: string[]; error?: string } {
  const roles = [...new Set(text.split(',').map((r) => r.trim()).filter(Boolean))];
  const bad = roles.filter((r) => !roleName.safeParse(r).success);
  if (bad.length) return { roles, error: `Not a valid role: ${bad.join(', ')}. Roles use lower-case letters, digits and . _ : - (at most 63 characters).` };
  if (roles.length > 64) return { roles, error: 'At most 64 roles.' };
  return { roles };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function userPage(req: FastifyRequest, u: ManagedUser, v: UserValues, errors: UserErrors, formError?: string) {
  const radio = (value: SSOOverride, hint: string) =>
    html`<label><input type="radio" name="sso" value="${value}"${v.sso === value ? html` checked` : ''} aria-describedby="sso-${value}-hint"> ${value}</label><span class="hint" id="sso-${value}-hint">${hint}</span>`;
  const error = (k: keyof UserErrors) => (errors[k] ? html`<span class="field-error" id="${k}-error">${errors[k]}</span>` : '');
  return html`${formError ? notice('error', formError) : ''}<section class="card"><dl class="facts"><dt>Email</dt><dd>${u.spec.email}</dd><dt>Name</dt><dd>${u.spec.displayName ?? '—'}</dd><dt>Single sign-on</dt><dd>${decisionText(u)}</dd>${u.status?.sso?.message ? html`<dt>Why</dt><dd>${u.status.sso.message}</dd>` : ''}</dl></section>
<form method="post" action="/users/${u.metadata.name}" class="card" data-confirm="Save the changes to ${u.spec.email}?">${csrfField(req)}<input type="hidden" name="generation" value="${v.generation}">
<fieldset${errors.sso ? html` aria-describedby="sso-error"` : ''}><legend>Single sign-on</legend>${radio('Inherit', 'Follow the enforcement of the user\'s domain.')}${radio('Enabled', 'Require single sign-on for this user once the connection passed its test.')}${radio('Disabled', 'Keep password login for this user (single sign-on stays available).')}${error('sso')}</fieldset>
${inputField({ id: 'roles', name: 'roles', label: 'Roles', value: v.roles, error: errors.roles, hint: 'Comma-separated, e.g. admin, billing:read.' })}
<div class="field"><label><input type="checkbox" name="active" value="true"${v.active ? html` checked` : ''}${errors.active ? html` aria-invalid="true" aria-describedby="active-error"` : ''}> Active</label><span class="hint">A deactivated user cannot sign in at all.</span>${error('active')}</div>
<div class="actions"><button type="submit"${disabledIfReadOnly(req)}>Save changes</button> <a href="/users">Back to users</a></div></form>`;
}

async function show(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply, u: ManagedUser, v: UserValues, errors: UserErrors = {}, formError?: string, status = 200): Promise<FastifyReply> {
  return sendHTML(reply, await renderScreen(ctx, req, { title: u.spec.displayName ?? u.spec.email, section: 'users', body: userPage(req, u, v, errors, formError) }), status);
}

async function notFound(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return sendHTML(reply, await renderScreen(ctx, req, { title: 'No such user', section: 'users', body: html`<p>This user does not exist (any more). <a href="/users">Back to users</a></p>` }), 404);
}

/** What the admin changed, in spec fields, and words for the Event. */
function changesOf(u: ManagedUser, v: { sso: SSOOverride; roles: string[]; active: boolean }): { changes: Partial<ManagedUserSpec>; words: string[] } {
  const changes: Partial<ManagedUserSpec> = {};
  const words: string[] = [];
  if ((u.spec.sso ?? 'Inherit') !== v.sso) (changes.sso = v.sso), words.push(`single sign-on ${v.sso}`);
  if (!sameSet(u.spec.roles ?? [], v.roles)) (changes.roles = v.roles), words.push(`roles ${v.roles.join(', ') || 'none'}`);
  if ((u.spec.active !== false) !== v.active) (changes.active = v.active), words.push(v.active ? 'activated' : 'deactivated');
  return { changes, words };
}

export const userEditScreen: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get<{ Params: { name: string } }>('/users/:name', async (req, reply) => {
    const u = isObjectName(req.params.name) ? await portalOf(req).org.get<ManagedUser>('ManagedUser', req.params.name) : undefined;
    return u ? show(ctx, req, reply, u, valuesOf(u)) : notFound(ctx, req, reply);
  });

  app.post<{ Params: { name: string } }>('/users/:name', async (req, reply) => {
    const { org } = portalOf(req);
    const u = isObjectName(req.params.name) ? await org.get<ManagedUser>('ManagedUser', req.params.name) : undefined;
    if (!u) return notFound(ctx, req, reply);
    const input = userForm.safeParse(req.body);
    if (!input.success) return show(ctx, req, reply, u, valuesOf(u), { sso: 'Choose Inherit, Enabled or Disabled.' }, undefined, 422);
    const typed: UserValues = { sso: input.data.sso, roles: input.data.roles, active: input.data.active === 'true', generation: String(input.data.generation ?? '') };
    const roles = parseRoles(input.data.roles);
    if (roles.error) return show(ctx, req, reply, u, typed, { roles: roles.error }, undefined, 422);
    const { changes, words } = changesOf(u, { ...typed, roles: roles.roles });
    if (words.length === 0) return redirectWithNotice(ctx, req, reply, `/users/${u.metadata.name}`, { kind: 'ok', message: 'Nothing to save: no changes.' });
    try {
      // The generation the form showed: a spec change since (by anyone) is a conflict, not overwritten.
      const { after: saved } = await applySpecEdit<ManagedUser>(org, 'ManagedUser', u.metadata.name, changes, { generation: input.data.generation ?? u.metadata.generation });
      await org.recordChange(saved, 'UserUpdated', `changed ${u.spec.email}: ${words.join('; ')}`);
      return redirectWithNotice(ctx, req, reply, `/users/${u.metadata.name}`, { kind: 'ok', message: `Saved: ${words.join('; ')}. The operator updates the sign-in decision in a moment.` });
    } catch (err) {
      if (!(err instanceof PortalWriteError)) throw err;
      const current = (await org.get<ManagedUser>('ManagedUser', u.metadata.name)) ?? u;
      const errors = fieldErrors(err.fields, { 'spec.sso': 'sso', 'spec.roles': 'roles', 'spec.active': 'active' }) as UserErrors;
      // On a conflict the form shows the current values; on invalid input the admin's own.
      const values = err.kind === 'invalid' ? { ...typed, generation: String(current.metadata.generation ?? '') } : valuesOf(current);
      return show(ctx, req, reply, current, values, errors, err.message, err.kind === 'invalid' ? 422 : err.kind === 'read-only' || err.kind === 'forbidden' ? 403 : 409);
    }
  });
};
