// The portal's page frame: the shared layout with the portal's sections, who is signed in, the
// one-time notice of the last action, and the read-only banner of a GitOps-managed organization.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, type HtmlValue, type SafeHtml } from '../../ui/html.ts';
import { page } from '../../ui/layout.ts';
import type { PortalContext } from '../context.ts';
import type { Flash } from '../session/sessions.ts';
import { portalOf } from '../session/request-session.ts';

export const SECTIONS = [
  { id: 'overview', href: '/', label: 'Overview' },
  { id: 'domains', href: '/domains', label: 'Domains' },
  { id: 'connections', href: '/connections', label: 'SSO connections' },
  { id: 'enforcement', href: '/enforcement', label: 'Enforcement' },
  { id: 'users', href: '/users', label: 'Users' },
  { id: 'provisioning', href: '/provisioning', label: 'Provisioning' },
  { id: 'activity', href: '/activity', label: 'Sign-in activity' },
] as const;
export type SectionID = (typeof SECTIONS)[number]['id'];

export function notice(kind: 'ok' | 'error' | 'warn' | 'info', message: HtmlValue): SafeHtml {
  const role = kind === 'error' ? 'alert' : 'status';
  return html`<div class="notice ${kind === 'info' ? '' : kind}" role="${role}">${message}</div>`;
}

function flashBox(f: Flash | undefined): SafeHtml | '' {
  if (!f) return '';
  return notice(
    f.kind,
    html`<p>${f.message}</p>${f.secret ? html`<p><code id="flash-secret">${f.secret}</code> <button type="button" class="small secondary" data-copy="flash-secret" data-label="Copy" hidden>Copy</button></p><p class="hint">Shown once: store it now. It cannot be shown again.</p>` : ''}`,
  );
}

export interface ScreenPage {
  title: string;
  section: SectionID;
  body: HtmlValue;
  /** Shown under the title. */
  lead?: string;
}

/** Renders a screen for the signed-in admin, with the pending notice (consumed here). */
export async function renderScreen(ctx: PortalContext, req: FastifyRequest, p: ScreenPage): Promise<SafeHtml> {
  const portal = portalOf(req);
  const flash = await ctx.sessions.takeFlash(portal.session);
  return page({
    title: p.title,
    organization: portal.orgName,
    product: 'Gatehouse admin',
    nav: SECTIONS.map((s) => ({ href: s.href, label: s.label, current: s.id === p.section })),
    signedInAs: html`${portal.session.actor.name} · <form class="inline-form" method="post" action="/signout"><input type="hidden" name="_csrf" value="${portal.session.csrfToken}"><button type="submit" class="small secondary">Sign out</button></form>`,
    body: html`${p.lead ? html`<p class="lead">${p.lead}</p>` : ''}${flashBox(flash)}${portal.readOnly ? notice('warn', portal.readOnly) : ''}${p.body}`,
  });
}

/** A page outside a session (sign-in, setup link, errors). */
export function publicPage(title: string, body: HtmlValue, organization?: string): SafeHtml {
  return page({ title, body, organization, product: 'Gatehouse admin', narrow: true });
}

export function sendHTML(reply: FastifyReply, body: SafeHtml, status = 200): FastifyReply {
  return reply.code(status).header('content-type', 'text/html; charset=utf-8').send(body.value);
}

/** After a successful write: a notice for the next page, then Post/Redirect/Get. */
export async function redirectWithNotice(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply, to: string, f: Flash): Promise<FastifyReply> {
  await ctx.sessions.flash(portalOf(req).session, f);
  return reply.redirect(to, 303);
}
