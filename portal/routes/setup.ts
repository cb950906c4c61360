// Opening a setup link. GET only shows what the link is for — mail scanners and link previews
// fetch URLs, and must not use up a single-use link — and the admin's POST redeems it, starting
// a session bound to the link's organization.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { html } from '../../ui/html.ts';
import type { RouteOptions } from '../context.ts';
import { Organization } from '../organization.ts';
import { setSessionCookie } from '../session/request-session.ts';
import { linkActorName } from '../setup-links/links.ts';
import { notice, publicPage, sendHTML } from '../views/frame.ts';

const linkParam = z.object({ link: z.string().max(80) });
const redeemBody = z.object({ link: z.string().max(80) });

const REFUSED = {
  malformed: 'This is not a Gatehouse setup link. Check that the whole link was copied.',
  unknown: 'This setup link has been used or revoked. Ask for a new one from the application (or your platform team).',
  expired: 'This setup link has expired. Ask for a new one from the application (or your platform team).',
} as const;

export const setupRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get('/setup/:link', async (req, reply) => {
    const { link } = linkParam.parse(req.params);
    const verdict = await ctx.setupLinks.check(link);
    reply.header('referrer-policy', 'no-referrer');
    if (!verdict.ok) return sendHTML(reply, publicPage('Setup link not valid', notice('error', REFUSED[verdict.reason])), verdict.reason === 'malformed' ? 400 : 410);
    const org = new Organization(ctx.kube, ctx.log, verdict.namespace, { name: linkActorName(verdict), via: 'setup-link', setupLinkID: verdict.id });
    const { displayName } = await org.describe().catch(() => ({ displayName: verdict.namespace }));
    return sendHTML(
      reply,
      publicPage(
        'Set up single sign-on',
        html`<p>This link lets you set up single sign-on for <strong>${displayName}</strong>: verify your email domains, connect your identity provider, test it and enforce it.</p>
<p>It works once: continuing uses it up, and your session lasts at most ${Math.round(ctx.options.sessionMaxMs / 3_600_000)} hours. Once single sign-on works, administrators sign in here with it.</p>
<form method="post" action="/setup"><input type="hidden" name="link" value="${link}"><button type="submit">Continue</button></form>`,
        displayName,
      ),
    );
  });

  app.post('/setup', async (req, reply) => {
    const body = redeemBody.safeParse(req.body);
    if (!body.success) return sendHTML(reply, publicPage('Setup link not valid', notice('error', REFUSED.malformed)), 400);
    const verdict = await ctx.setupLinks.redeem(body.data.link);
    if (!verdict.ok) return sendHTML(reply, publicPage('Setup link not valid', notice('error', REFUSED[verdict.reason])), verdict.reason === 'malformed' ? 400 : 410);
    const session = await ctx.sessions.create(verdict.namespace, { name: linkActorName(verdict), via: 'setup-link', setupLinkID: verdict.id });
    ctx.log.info({ namespace: verdict.namespace, link: verdict.id }, 'setup link redeemed');
    setSessionCookie(reply, ctx, session);
    return reply.redirect('/', 303);
  });
};
