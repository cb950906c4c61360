// /connections/<name>/test: choose the test user, start the test (spec.test.email and a new value
// of the renew annotation, so the operator issues a fresh link), optionally email the link, and
// watch the link and the result arrive through /connections/<name>/test.json.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RENEW_TEST_LINK_ANNOTATION, type SSOProfile } from '../../../crds/api/index.ts';
import { html } from '../../../ui/html.ts';
import type { PortalContext, RouteOptions } from '../../context.ts';
import { PortalWriteError } from '../../organization.ts';
import { portalOf } from '../../session/request-session.ts';
import type { Actor } from '../../session/sessions.ts';
import { csrfField, disabledIfReadOnly, fieldErrors, inputField } from '../../views/forms.ts';
import { notice, redirectWithNotice, renderScreen, sendHTML } from '../../views/frame.ts';
import { ago } from '../../views/status.ts';
import { CONNECTION_NAME, notFound } from './detail.ts';
import { emailWhenIssued, loadRun, saveRun, testState, urlHash, type TestRun } from './test-link.ts';

const testForm = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email({ message: 'Enter the test user\'s email address.' })),
  sendEmail: z.string().optional(),
});

type Params = { Params: { name: string } };
/** Test starts per minute and client address. */
export const TEST_STARTS_PER_MINUTE = 10;

/** Who asked for the test, as the test user reads it in the email. */
function requesterOf(actor: Actor, organization: string): string {
  if (actor.via === 'sso') return actor.displayName && actor.email ? `${actor.displayName} (${actor.email})` : actor.name;
  return `An administrator of ${organization} (${actor.name})`;
}

async function profileOf(req: FastifyRequest<Params>, reply: FastifyReply): Promise<SSOProfile | undefined> {
  const { name } = req.params;
  if (!CONNECTION_NAME.test(name)) {
    await notFound(reply);
    return undefined;
  }
  const p = await portalOf(req).org.get<SSOProfile>('SSOProfile', name);
  if (!p) await notFound(reply);
  return p;
}

async function renderTest(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply, p: SSOProfile, o: { email?: string; sendEmail?: boolean; error?: string; problem?: string; status?: number }): Promise<FastifyReply> {
  const portal = portalOf(req);
  const name = p.metadata.name;
  const state = testState(p, await loadRun(ctx, portal.session.namespace, name));
  const email = o.email ?? p.spec.test?.email ?? portal.session.actor.email ?? '';
  const disabled = disabledIfReadOnly(req);
  const mailChoice = ctx.mailer
    ? html`<div class="field"><label><input type="checkbox" name="sendEmail" value="on"${o.sendEmail ? html` checked` : ''}${disabled}> Email the test link to the test user</label></div>`
    : html`<p class="hint">Email is not available: SMTP is not configured for this installation (chart value <code>portal.smtp</code>). Copy the link to the test user instead.</p>`;
  const lastPassed = p.status?.test?.lastPassed;
  const live = p.spec.test
    ? html`<section class="card" data-live="/connections/${name}/test.json" aria-live="polite">
        <h2>Test of ${p.spec.test.email}</h2>
        <p><a data-href-field="url" href="${state.url ?? '#'}"${state.url ? '' : html` hidden`}>Open the test link</a> <span class="hint" data-field="link.text">${state.link.text}</span></p>
        <p>Result: <strong data-field="result.text">${state.result.text}</strong></p>
        <p data-field="result.advice">${state.result.advice}</p>
        <p data-field="mail.text">${state.mail.text}</p>

      </section>`
    : '';
  return sendHTML(
    reply,
    await renderScreen(ctx, req, {
      title: `Test the ${p.spec.displayName ?? name} connection`,
      section: 'connections',
      lead: 'The test user opens the test link while signed in to the identity provider. It signs nobody in to the application; it only checks the connection.',
      body: html`${o.problem ? notice('error', o.problem) : ''}
        <form method="post" action="/connections/${name}/test">${csrfField(req)}
          ${inputField({ id: 'email', name: 'email', label: 'Test user email', type: 'email', value: email, error: o.error, required: true, autocomplete: 'email', hint: `An address in ${p.spec.domains.join(', ')}.` })}
          ${mailChoice}
          <div class="actions"><button type="submit"${disabled}>Start test</button></div>
        </form>
        ${live}
        ${lastPassed ? html`<p>Last passed test: ${lastPassed.email}, ${ago(lastPassed.time)}.</p>` : ''}
        <p><a href="/connections/${name}">Back to the connection</a></p>`,
    }),
    o.status ?? 200,
  );
}

export const connectionTest: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get<Params>('/connections/:name/test', async (req, reply) => {
    const p = await profileOf(req, reply);
    if (!p) return reply;
    return renderTest(ctx, req, reply, p, {});
  });

  app.get<Params>('/connections/:name/test.json', async (req, reply) => {
    const p = await profileOf(req, reply);
    if (!p) return reply;
    return reply.header('content-type', 'application/json; charset=utf-8').send(testState(p, await loadRun(ctx, portalOf(req).session.namespace, p.metadata.name)));
  });

  // Each start may send an email: a few per minute and address is plenty for a person.
  app.post<Params>('/connections/:name/test', { config: { rateLimit: { max: TEST_STARTS_PER_MINUTE, timeWindow: '1 minute' } } }, async (req, reply) => {
    const p = await profileOf(req, reply);
    if (!p) return reply;
    const { org, session, orgName } = portalOf(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const sendEmail = body.sendEmail === 'on' && !!ctx.mailer;
    const parsed = testForm.safeParse({ email: typeof body.email === 'string' ? body.email : '', sendEmail: typeof body.sendEmail === 'string' ? body.sendEmail : undefined });
    const rawEmail = typeof body.email === 'string' ? body.email : '';
    if (!parsed.success) return renderTest(ctx, req, reply, p, { email: rawEmail, sendEmail, error: parsed.error.issues[0]?.message, status: 422 });
    const email = parsed.data.email;
    if (!p.spec.domains.some((d) => email.endsWith(`@${d}`)))
      return renderTest(ctx, req, reply, p, { email: rawEmail, sendEmail, error: `The test user needs an address in ${p.spec.domains.join(' or ')}.`, status: 422 });
    const renewal = new Date().toISOString();
    // Everything the portal applied before, with the test user and a new renewal: an apply leaving a field out would remove it.
    const run: TestRun = { startedAt: Date.now(), email, requestedBy: requesterOf(session.actor, orgName), previousURL: urlHash(p.status?.test?.url), mail: sendEmail ? 'pending' : 'none' };
    let updated: SSOProfile;
    try {
      const edit = await org.edit<SSOProfile>('SSOProfile', p.metadata.name, (owned) => ({
        spec: { ...(owned.spec as Record<string, unknown> | undefined), test: { email } },
        metadata: { ...owned.metadata, annotations: { ...owned.metadata?.annotations, [RENEW_TEST_LINK_ANNOTATION]: renewal } },
      }));
      updated = edit.after;
    } catch (err) {
      if (!(err instanceof PortalWriteError)) throw err;
      const errors = fieldErrors(err.fields, { 'spec.test.email': 'email', 'spec.test': 'email' });
      return renderTest(ctx, req, reply, p, { email: rawEmail, sendEmail, ...(errors.email ? { error: errors.email } : { problem: err.message }), status: err.kind === 'invalid' ? 422 : err.kind === 'read-only' || err.kind === 'forbidden' ? 403 : 409 });
    }
    await saveRun(ctx, session.namespace, p.metadata.name, run);
    await org.recordChange(updated, 'TestStarted', `started a test of the connection ${p.metadata.name} for ${email}${sendEmail ? ' (link by email)' : ''}`);
    if (sendEmail) void emailWhenIssued(ctx, org, { name: p.metadata.name, organization: orgName, run });
    return redirectWithNotice(ctx, req, reply, `/connections/${p.metadata.name}/test`, {
      kind: 'ok',
      message: sendEmail ? `Test started for ${email}. The link is emailed as soon as Gatehouse issues it.` : `Test started for ${email}. Open the test link below as that user, or send it to them.`,
    });
  });
};
