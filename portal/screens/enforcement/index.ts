// The enforcement screen: choose the domains and the exempt administrators of a connection,
// review how many users the operator will require to use SSO, enforce, and watch the operator's
// progress until Enforced (or Blocked, with why). Removing enforcement is confirmed first.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { email, UNMANAGED_USER_POLICIES, type ManagedUser, type SSOProfile, type VerifiedDomain } from '../../../crds/api/index.ts';
import { emailDomain } from '../../../operator/decisions.ts';
import { html } from '../../../ui/html.ts';
import type { PortalContext, RouteOptions } from '../../context.ts';
import { PortalWriteError } from '../../organization.ts';
import { applySpecEdit } from '../../spec-edit.ts';
import { portalOf } from '../../session/request-session.ts';
import { isObjectName, objectName } from '../object-name.ts';
import { redirectWithNotice, renderScreen, sendHTML } from '../../views/frame.ts';
import { forecastEnforcement, type EnforcementProposal } from './forecast.ts';
import { progressOf } from './progress.ts';
import { connectionPicker, enforcementForm, exemptList, progressRegion, removalConfirmation, removalSection, reviewPage, type EnforcementErrors, type EnforcementFormValues } from './views.ts';

const MAX_EXEMPT = 32;
const asList = z.union([z.string(), z.array(z.string())]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));

const enforcementForm_ = z.object({
  connection: objectName,
  generation: z.coerce.number().int().min(0).optional().catch(undefined),
  domains: asList,
  exempt: z.string().max(MAX_EXEMPT * 400).default(''),
  unmanagedUsers: z.enum(UNMANAGED_USER_POLICIES).default('Refuse'),
  acknowledgeSelfRemoval: z.literal('yes').optional(),
});
type EnforcementInput = z.infer<typeof enforcementForm_>;

const SCREEN = { title: 'Enforce single sign-on', section: 'enforcement' } as const;

async function profilesOf(req: FastifyRequest): Promise<SSOProfile[]> {
  return (await portalOf(req).org.list<SSOProfile>('SSOProfile')).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

function valuesOf(profile: SSOProfile, req: FastifyRequest): EnforcementFormValues {
  const e = profile.spec.enforcement;
  const actor = portalOf(req).session.actor;
  // The admin who enforces stays exempt unless they take themselves off the list.
  const exempt = e?.exempt ?? (actor.via === 'sso' && actor.email ? [actor.email] : []);
  return { connection: profile.metadata.name, domains: e?.domains ?? [], exempt: exempt.join('\n'), unmanagedUsers: e?.unmanagedUsers ?? 'Refuse', generation: String(profile.metadata.generation ?? '') };
}

/** The form's input checked against the profile: domains it lists, valid exempt addresses. */
function validate(input: EnforcementInput, profile: SSOProfile): { values: EnforcementFormValues; errors: EnforcementErrors; proposal: EnforcementProposal } {
  const errors: EnforcementErrors = {};
  const domains = [...new Set(input.domains)];
  const unknown = domains.filter((d) => !profile.spec.domains.includes(d));
  if (unknown.length) errors.domains = `Not a domain of this connection: ${unknown.join(', ')}`;
  else if (domains.length === 0) errors.domains = 'Choose at least one domain (to stop enforcing, use "Remove enforcement").';
  const typed = exemptList(input.exempt);
  const bad = typed.filter((e) => !email.safeParse(e).success);
  const exempt = [...new Map(typed.map((e) => [e.toLowerCase(), e])).values()];
  if (bad.length) errors.exempt = `Not an email address: ${bad.join(', ')}`;
  else if (exempt.length > MAX_EXEMPT) errors.exempt = `At most ${MAX_EXEMPT} exempt administrators.`;
  const values: EnforcementFormValues = { connection: profile.metadata.name, domains, exempt: typed.join('\n'), unmanagedUsers: input.unmanagedUsers, generation: String(input.generation ?? '') };
  return { values, errors, proposal: { profile: profile.metadata.name, domains, exempt, unmanagedUsers: input.unmanagedUsers } };
}

/** The signed-in admin (via SSO) left themselves off the exempt list without confirming. */
function selfRemovalWarning(req: FastifyRequest, input: EnforcementInput, proposal: EnforcementProposal): string | undefined {
  const actor = portalOf(req).session.actor;
  if (actor.via !== 'sso' || !actor.email || input.acknowledgeSelfRemoval === 'yes') return undefined;
  const me = actor.email.toLowerCase();
  if (!proposal.domains.includes(emailDomain(me)) || proposal.exempt.some((e) => e.toLowerCase() === me)) return undefined;
  return `You (${actor.email}) are not on the exempt list: once enforced you can only sign in with single sign-on, and if the identity provider fails you are locked out with everyone else. The guides keep the administrator who enforces exempt. Add yourself back, or review without yourself exempt.`;
}

async function unmanagedNote(ctx: PortalContext, req: FastifyRequest, proposal: EnforcementProposal, profile: SSOProfile, users: readonly ManagedUser[]): Promise<string> {
  if (proposal.unmanagedUsers === 'Allow') return 'Addresses of these domains that are not managed users keep password login.';
  const jit = profile.spec.provisioning?.jit?.enabled ? ' They can still sign in with single sign-on: just-in-time provisioning creates them on their first sign-in.' : ' Just-in-time provisioning is off for this connection, so they cannot sign in at all until they are added as users.';
  const base = 'Addresses of these domains that are not managed users will be refused a password.';
  if (!ctx.activity) return base + jit;
  try {
    const managed = new Set(users.map((u) => u.spec.email.toLowerCase()));
    const wanted = new Set(proposal.domains);
    const recent = new Set((await ctx.activity.latest(portalOf(req).session.namespace, 200)).map((a) => a.email?.toLowerCase()).filter((e): e is string => !!e && wanted.has(emailDomain(e)) && !managed.has(e)));
    return `${base} ${recent.size} such ${recent.size === 1 ? 'address has' : 'addresses have'} signed in recently and would be refused.${jit}`;
  } catch {
    return base + jit;
  }
}

async function showForm(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply, profiles: SSOProfile[], profile: SSOProfile, values: EnforcementFormValues, errors: EnforcementErrors = {}, warning?: string, status = 200): Promise<FastifyReply> {
  const lead = 'Require the users of your domains to sign in through your identity provider. You review the effect before anything changes.';
  const body = html`${connectionPicker(profiles, profile.metadata.name)}${enforcementForm(req, profile, values, errors, warning)}${profile.status?.enforcement ? progressRegion(profile.metadata.name, initialProgress(profile)) : ''}${removalSection(req, profile)}`;
  return sendHTML(reply, await renderScreen(ctx, req, { ...SCREEN, lead, body }), status);
}

function initialProgress(p: SSOProfile) {
  const now = progressOf(p);
  return { text: now.text, value: now.progress.value, max: now.progress.max, message: now.message };
}

async function chosenProfile(req: FastifyRequest, name: string | undefined): Promise<{ profiles: SSOProfile[]; profile: SSOProfile | undefined }> {
  const profiles = await profilesOf(req);
  return { profiles, profile: name === undefined ? profiles[0] : profiles.find((p) => p.metadata.name === name) };
}

async function emptyState(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply, status = 200): Promise<FastifyReply> {
  return sendHTML(reply, await renderScreen(ctx, req, { ...SCREEN, body: html`<p>There is no such connection. <a href="/connections/new">Create a connection</a> first.</p>` }), status);
}

interface Submission {
  input: EnforcementInput;
  profiles: SSOProfile[];
  profile: SSOProfile;
  values: EnforcementFormValues;
  proposal: EnforcementProposal;
}

/** A posted enforcement form checked against its profile, or the page that says what is wrong. */
async function submission(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply): Promise<Submission | { answered: FastifyReply }> {
  const input = enforcementForm_.safeParse(req.body);
  if (!input.success) return { answered: reply.code(400).send({ error: 'invalid_form', message: z.prettifyError(input.error) }) };
  const { profiles, profile } = await chosenProfile(req, input.data.connection);
  if (!profile) return { answered: await emptyState(ctx, req, reply, 404) };
  const { values, errors, proposal } = validate(input.data, profile);
  if (Object.keys(errors).length) return { answered: await showForm(ctx, req, reply, profiles, profile, values, errors, undefined, 422) };
  return { input: input.data, profiles, profile, values, proposal };
}

export const enforcementScreen: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get<{ Querystring: { connection?: string } }>('/enforcement', async (req, reply) => {
    const { profiles, profile } = await chosenProfile(req, typeof req.query.connection === 'string' ? req.query.connection : undefined);
    if (!profile) return emptyState(ctx, req, reply, profiles.length ? 404 : 200);
    return showForm(ctx, req, reply, profiles, profile, valuesOf(profile, req));
  });

  app.post('/enforcement/review', async (req, reply) => {
    const checked = await submission(ctx, req, reply);
    if ('answered' in checked) return checked.answered;
    const { input, profiles, profile, values, proposal } = checked;
    const warning = selfRemovalWarning(req, input, proposal);
    if (warning) return showForm(ctx, req, reply, profiles, profile, values, {}, warning);
    const { org } = portalOf(req);
    const [domains, users] = await Promise.all([org.list<VerifiedDomain>('VerifiedDomain'), org.list<ManagedUser>('ManagedUser')]);
    const forecast = forecastEnforcement({ profiles, domains, users }, proposal);
    const unmanaged = await unmanagedNote(ctx, req, proposal, profile, users);
    // Review against the generation the admin reviews now: a spec change after this page is a conflict.
    const reviewed = { ...values, generation: String(profile.metadata.generation ?? '') };
    return sendHTML(reply, await renderScreen(ctx, req, { title: 'Review enforcement', section: 'enforcement', body: reviewPage(req, profile, reviewed, forecast, unmanaged) }));
  });

  app.post('/enforcement/apply', async (req, reply) => {
    const checked = await submission(ctx, req, reply);
    if ('answered' in checked) return checked.answered;
    const { input, profiles, profile, values, proposal } = checked;
    const { org } = portalOf(req);
    const enforcement = { domains: proposal.domains, ...(proposal.exempt.length ? { exempt: proposal.exempt } : {}), unmanagedUsers: proposal.unmanagedUsers };
    try {
      const { after: saved } = await applySpecEdit<SSOProfile>(org, 'SSOProfile', profile.metadata.name, { enforcement }, { generation: input.generation ?? profile.metadata.generation });
      await org.recordChange(saved, 'EnforcementRequested', `requested SSO enforcement on ${proposal.domains.join(', ')}; exempt: ${proposal.exempt.join(', ') || 'none'}; unmanaged addresses: ${proposal.unmanagedUsers}`);
      return redirectWithNotice(ctx, req, reply, `/enforcement/${profile.metadata.name}/progress`, { kind: 'ok', message: `Enforcement requested on ${proposal.domains.join(', ')}. The operator is moving your users now.` });
    } catch (err) {
      if (!(err instanceof PortalWriteError)) throw err;
      const current = (await profilesOf(req)).find((p) => p.metadata.name === profile.metadata.name) ?? profile;
      return showForm(ctx, req, reply, profiles, current, { ...values, generation: String(current.metadata.generation ?? '') }, { form: err.message }, undefined, err.kind === 'read-only' || err.kind === 'forbidden' ? 403 : 409);
    }
  });

  app.get<{ Params: { name: string } }>('/enforcement/:name/progress', async (req, reply) => {
    const profile = (await profilesOf(req)).find((p) => p.metadata.name === req.params.name);
    if (!profile) return emptyState(ctx, req, reply, 404);
    const body = html`<p>Connection ${profile.spec.displayName ?? profile.metadata.name}: ${(profile.spec.enforcement?.domains ?? []).join(', ') || 'no domains requested'}.</p>${progressRegion(profile.metadata.name, initialProgress(profile))}<p><a href="/enforcement?connection=${profile.metadata.name}">Back to enforcement</a> · <a href="/users">Users and their decisions</a></p>`;
    return sendHTML(reply, await renderScreen(ctx, req, { title: 'Enforcement progress', section: 'enforcement', body }));
  });

  app.get<{ Params: { name: string } }>('/enforcement/:name/progress.json', async (req, reply) => {
    const profile = isObjectName(req.params.name) ? await portalOf(req).org.get<SSOProfile>('SSOProfile', req.params.name) : undefined;
    if (!profile) return reply.code(404).send({ error: 'not_found', message: 'no such connection', done: true });
    return reply.header('cache-control', 'no-store').send(progressOf(profile));
  });

  app.get<{ Querystring: { connection?: string } }>('/enforcement/remove', async (req, reply) => {
    const { profile } = await chosenProfile(req, typeof req.query.connection === 'string' ? req.query.connection : '');
    if (!profile?.spec.enforcement?.domains.length) return emptyState(ctx, req, reply, 404);
    return sendHTML(reply, await renderScreen(ctx, req, { title: 'Remove enforcement?', section: 'enforcement', body: removalConfirmation(req, profile) }));
  });

  app.post('/enforcement/remove', async (req, reply) => {
    const input = z.object({ connection: objectName, generation: z.coerce.number().int().min(0).optional().catch(undefined) }).safeParse(req.body);
    if (!input.success) return reply.code(400).send({ error: 'invalid_form', message: z.prettifyError(input.error) });
    const { profiles, profile } = await chosenProfile(req, input.data.connection);
    if (!profile) return emptyState(ctx, req, reply, 404);
    const { org } = portalOf(req);
    try {
      const { after: saved } = await applySpecEdit<SSOProfile>(org, 'SSOProfile', profile.metadata.name, { enforcement: undefined }, { generation: input.data.generation ?? profile.metadata.generation });
      await org.recordChange(saved, 'EnforcementRemoved', `removed SSO enforcement from ${(profile.spec.enforcement?.domains ?? []).join(', ')}`);
      return redirectWithNotice(ctx, req, reply, `/enforcement?connection=${profile.metadata.name}`, { kind: 'ok', message: 'Enforcement removed. Users get password login back as the operator updates them.' });
    } catch (err) {
      if (!(err instanceof PortalWriteError)) throw err;
      return showForm(ctx, req, reply, profiles, profile, valuesOf(profile, req), { form: err.message }, undefined, err.kind === 'read-only' || err.kind === 'forbidden' ? 403 : 409);
    }
  });
};
