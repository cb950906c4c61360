// Provisioning: SCIM on/off with its base URL and token (shown once, after turning on or
// rotating, never on a plain page load), and per connection JIT with default roles and role
// mapping rules. Every change is an Event naming the admin.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SSOProfile } from '../../crds/api/index.ts';
import { html, type SafeHtml } from '../../ui/html.ts';
import type { PortalContext, RouteOptions } from '../context.ts';
import { PortalWriteError } from '../organization.ts';
import { OrganizationScim, scimBaseURL, type ScimState } from '../scim.ts';
import { portalOf } from '../session/request-session.ts';
import { copyable, csrfField, disabledIfReadOnly } from '../views/forms.ts';
import { notice, redirectWithNotice, renderScreen, sendHTML } from '../views/frame.ts';
import { refuseIfReadOnly } from '../views/read-only.ts';
import { badge } from '../views/status.ts';
import { apiErrors, formOf, postedForm, provisioningFormHtml, specOf, type ProvisioningForm } from './provisioning-form.ts';
import { objectName } from './object-name.ts';

/** A token the admin has not seen yet (the operator was slower than the wait): revealable once. */
const PENDING_REVEAL_MS = 10 * 60_000;
const pendingKey = (sessionID: string, namespace: string) => `portal:scim-reveal:${sessionID}:${namespace}`;

interface Edited {
  name: string;
  form: ProvisioningForm;
  errors: Record<string, string>;
  resourceVersion: string;
  blankRows?: number;
  notice?: SafeHtml;
}

function scimSection(ctx: PortalContext, req: FastifyRequest, state: ScimState, pending: boolean): SafeHtml {
  const { org } = portalOf(req);
  const base = ctx.options.spServerURL ?? ctx.options.oidc?.issuer;
  const csrf = csrfField(req);
  const disabled = disabledIfReadOnly(req);
  const url = base ? html`<dl class="facts"><dt>SCIM base URL</dt><dd>${copyable('scim-base-url', scimBaseURL(base, org.namespace))}</dd><dt>Authentication</dt><dd>HTTP header (bearer token)</dd></dl>` : html`<p>The SCIM base URL is not configured for this portal (--sp-server-url); ask the platform team.</p>`;
  if (!state.enabled) {
    return html`<section class="card" aria-labelledby="scim-title"><h2 id="scim-title">SCIM ${badge('muted', 'Off')}</h2><p>With SCIM on, your identity provider creates, updates and deactivates users here automatically.</p>${url}<form method="post" action="/provisioning/scim">${csrf}<input type="hidden" name="enabled" value="true"><button type="submit"${disabled}>Turn on SCIM</button></form></section>`;
  }
  const token = state.tokenExists ? html`<p>A token is set. It was shown once when it was created; rotate it to get a new one.</p>` : html`<p>Gatehouse is creating the token.</p>`;
  const reveal = pending ? html`<form method="post" action="/provisioning/scim/reveal" class="inline-form">${csrf}<button type="submit"${disabled}>Show the new token</button></form> ` : '';
  return html`<section class="card" aria-labelledby="scim-title"><h2 id="scim-title">SCIM ${badge('ok', 'On')}</h2><p>Paste the base URL and the token into your identity provider’s SCIM (provisioning) settings.</p>${url}${token}<div class="actions">${reveal}<form method="post" action="/provisioning/scim/rotate" class="inline-form" data-confirm="Rotate the SCIM token? The current token stops working within a minute; paste the new one into your identity provider.">${csrf}<button type="submit" class="secondary"${disabled}>Rotate token</button></form> <form method="post" action="/provisioning/scim" class="inline-form" data-confirm="Turn off SCIM? Your identity provider can no longer create or update users here. Users it created stay.">${csrf}<input type="hidden" name="enabled" value="false"><button type="submit" class="danger"${disabled}>Turn off SCIM</button></form></div></section>`;
}

async function renderProvisioning(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply, edited?: Edited, status = 200): Promise<FastifyReply> {
  const { org, session } = portalOf(req);
  const scim = new OrganizationScim(ctx.kube, org);
  const [state, profiles, pending] = await Promise.all([scim.state(), org.list<SSOProfile>('SSOProfile'), ctx.state.get(pendingKey(session.id, org.namespace))]);
  const forms = profiles
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((p) => {
      const mine = edited?.name === p.metadata.name ? edited : undefined;
      const form = provisioningFormHtml({
        profile: p,
        form: mine?.form ?? formOf(p),
        errors: mine?.errors ?? {},
        csrf: csrfField(req),
        disabled: disabledIfReadOnly(req),
        resourceVersion: mine?.resourceVersion ?? String(p.metadata.generation ?? ''),
        ...(mine?.blankRows !== undefined ? { blankRows: mine.blankRows } : {}),
      });
      return mine?.notice ? html`${mine.notice}${form}` : form;
    });
  const connections = forms.length ? html`<h2>Users created on sign-in, and their roles</h2>${forms}` : html`<p>No SSO connections yet: <a href="/connections">create one</a> to set up JIT provisioning and role mapping.</p>`;
  return sendHTML(
    reply,
    await renderScreen(ctx, req, {
      title: 'Provisioning',
      section: 'provisioning',
      lead: 'How users get here: created by your identity provider through SCIM, or on their first sign-in (JIT), with roles from their groups.',
      body: html`${scimSection(ctx, req, state, !!pending)}${connections}`,
    }),
    status,
  );
}

async function showTokenOrPending(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply, scim: OrganizationScim, done: string, notUid?: string): Promise<FastifyReply> {
  const { session, org } = portalOf(req);
  const fresh = await scim.waitForToken(notUid);
  if (fresh) {
    await ctx.state.take(pendingKey(session.id, org.namespace));
    return redirectWithNotice(ctx, req, reply, '/provisioning', { kind: 'ok', message: `${done} Paste the token into your identity provider now.`, secret: fresh.token });
  }
  await ctx.state.put(pendingKey(session.id, org.namespace), JSON.stringify({ notUid: notUid ?? null }), PENDING_REVEAL_MS);
  return redirectWithNotice(ctx, req, reply, '/provisioning', { kind: 'warn', message: `${done} Gatehouse is still creating the new token: select “Show the new token” in a moment.` });
}

export const provisioningScreen: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get('/provisioning', async (req, reply) => renderProvisioning(ctx, req, reply));

  app.post('/provisioning/scim', async (req, reply) => {
    refuseIfReadOnly(req);
    const { org } = portalOf(req);
    const enabled = z.object({ enabled: z.enum(['true', 'false']) }).safeParse(req.body);
    if (!enabled.success) throw new PortalWriteError('invalid', 'Choose whether to turn SCIM on or off.');
    const scim = new OrganizationScim(ctx.kube, org);
    const on = enabled.data.enabled === 'true';
    const before = await scim.state();
    if (on && before.enabled) return redirectWithNotice(ctx, req, reply, '/provisioning', { kind: 'ok', message: 'SCIM is already on. Rotate the token to get a new one: a token is shown once.' });
    const ns = await scim.setEnabled(on);
    await org.recordChange(ns, on ? 'ScimEnabled' : 'ScimDisabled', on ? 'turned SCIM provisioning on' : 'turned SCIM provisioning off');
    if (!on) return redirectWithNotice(ctx, req, reply, '/provisioning', { kind: 'ok', message: 'SCIM is off: Gatehouse refuses SCIM requests for this organization. Users it created stay.' });
    // The token kept from an earlier time SCIM was on works again; it was shown back then.
    if (before.tokenExists) return redirectWithNotice(ctx, req, reply, '/provisioning', { kind: 'ok', message: 'SCIM is on again, with the token it had before. Rotate the token if you need a new one: a token is shown once.' });
    return showTokenOrPending(ctx, req, reply, scim, 'SCIM is on.');
  });

  app.post('/provisioning/scim/rotate', async (req, reply) => {
    refuseIfReadOnly(req);
    const { org } = portalOf(req);
    const scim = new OrganizationScim(ctx.kube, org);
    const state = await scim.state();
    if (!state.enabled) throw new PortalWriteError('invalid', 'SCIM is off: turn it on first.');
    const retired = await scim.retireToken();
    await org.recordChange(state.namespace, 'ScimTokenRotated', 'rotated the SCIM token (the old token stops working)');
    return showTokenOrPending(ctx, req, reply, scim, 'The SCIM token was rotated: the old token stops working within a minute.', retired);
  });

  app.post('/provisioning/scim/reveal', async (req, reply) => {
    refuseIfReadOnly(req);
    const { org, session } = portalOf(req);
    const key = pendingKey(session.id, org.namespace);
    const pending = z.object({ notUid: z.string().nullable() }).safeParse(JSON.parse((await ctx.state.take(key)) ?? 'null'));
    if (!pending.success) return redirectWithNotice(ctx, req, reply, '/provisioning', { kind: 'error', message: 'There is no new token to show: a token is shown once. Rotate the token to get a new one.' });
    return showTokenOrPending(ctx, req, reply, new OrganizationScim(ctx.kube, org, 2_000), 'Here is the new SCIM token.', pending.data.notUid ?? undefined);
  });

  app.post<{ Params: { name: string } }>('/provisioning/connections/:name', async (req, reply) => {
    refuseIfReadOnly(req);
    const { org } = portalOf(req);
    const name = objectName.safeParse(req.params.name);
    const live = name.success ? await org.get<SSOProfile>('SSOProfile', name.data) : undefined;
    if (!live) throw new PortalWriteError('not-found', 'That connection no longer exists.');
    const form = postedForm(req.body);
    const rv = z.object({ rv: z.string().max(64) }).safeParse(req.body);
    // The form carries the generation it was rendered from: a spec change since is a conflict, a status write is not.
    const basis = rv.success && /^\d+$/.test(rv.data.rv) ? rv.data.rv : String(live.metadata.generation ?? '');
    const edited = (e: Partial<Edited>): Edited => ({ name: live.metadata.name, form, errors: {}, resourceVersion: basis, ...e });
    const intent = z.object({ intent: z.string() }).safeParse(req.body);
    if (intent.success && intent.data.intent === 'add-row') return renderProvisioning(ctx, req, reply, edited({ blankRows: 2 }));
    const parsed = specOf(form);
    if (parsed.errors) return renderProvisioning(ctx, req, reply, edited({ errors: parsed.errors, notice: notice('error', 'Not saved: correct the fields marked below.') }), 422);
    let saved: SSOProfile;
    try {
      const edit = await org.edit<SSOProfile>(
        'SSOProfile',
        live.metadata.name,
        (owned) => {
          const { roleMapping: _previous, ...kept } = (owned.spec ?? {}) as Record<string, unknown>;
          return { spec: { ...kept, provisioning: parsed.spec.provisioning, ...(parsed.spec.roleMapping ? { roleMapping: parsed.spec.roleMapping } : {}) }, ...(owned.metadata ? { metadata: owned.metadata } : {}) };
        },
        { generation: Number(basis) },
      );
      saved = edit.after;
    } catch (err) {
      if (!(err instanceof PortalWriteError)) throw err;
      if (err.kind === 'invalid') return renderProvisioning(ctx, req, reply, edited({ errors: apiErrors(err.fields, form.rules.length), notice: notice('error', `Not saved: ${err.message}`) }), 422);
      // The current values are shown (not the admin's), with the reason: nothing was overwritten.
      if (err.kind === 'conflict') return renderProvisioning(ctx, req, reply, { name: live.metadata.name, form: formOf(live), errors: {}, resourceVersion: String(live.metadata.generation ?? ''), notice: notice('error', err.message) }, 409);
      throw err;
    }
    await org.recordChange(saved, 'ProvisioningChanged', `set JIT ${form.jit ? 'on' : 'off'}${parsed.spec.provisioning.jit?.defaultRoles ? ` with default roles ${parsed.spec.provisioning.jit.defaultRoles.join(', ')}` : ''} and ${parsed.spec.roleMapping ? `${parsed.spec.roleMapping.rules.length} role-mapping rule${parsed.spec.roleMapping.rules.length === 1 ? '' : 's'} on ${parsed.spec.roleMapping.attribute}` : 'no role mapping'} for connection ${saved.metadata.name}`);
    const stillMapped = !parsed.spec.roleMapping && saved.spec.roleMapping;
    return redirectWithNotice(ctx, req, reply, '/provisioning', {
      kind: stillMapped ? 'warn' : 'ok',
      message: stillMapped ? `Saved the provisioning of ${saved.metadata.name}, but its role mapping is managed by another tool (for example GitOps or kubectl) and stays: remove it there.` : `Saved the provisioning of ${saved.metadata.name}.`,
    });
  });
};
