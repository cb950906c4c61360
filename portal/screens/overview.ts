// The overview: the guides' steps in order, each with its state and a link to its screen, so an
// admin always sees what is done and what comes next.
import type { FastifyPluginAsync } from 'fastify';
import type { ManagedUser, SSOProfile, VerifiedDomain } from '../../crds/api/index.ts';
import { html } from '../../ui/html.ts';
import type { RouteOptions } from '../context.ts';
import { portalOf } from '../session/request-session.ts';
import { renderScreen, sendHTML } from '../views/frame.ts';
import { badge, conditionOf } from '../views/status.ts';

export const overviewScreen: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get('/', async (req, reply) => {
    const { org } = portalOf(req);
    const [domains, profiles, users] = await Promise.all([org.list<VerifiedDomain>('VerifiedDomain'), org.list<SSOProfile>('SSOProfile'), org.list<ManagedUser>('ManagedUser')]);
    const verified = domains.filter((d) => conditionOf(d.status?.conditions, 'Verified')?.status === 'True').length;
    const ready = profiles.filter((p) => conditionOf(p.status?.conditions, 'Ready')?.status === 'True').length;
    const tested = profiles.filter((p) => p.status?.test?.lastPassed).length;
    const enforced = profiles.filter((p) => p.status?.enforcement?.phase === 'Enforced').length;
    const steps = [
      { href: '/domains', label: 'Verify your email domains', done: verified > 0, state: `${verified} of ${domains.length} verified` },
      { href: '/connections', label: 'Connect your identity provider', done: ready > 0, state: `${ready} of ${profiles.length} connections ready` },
      { href: '/connections', label: 'Test the connection', done: tested > 0, state: tested > 0 ? `${tested} passed a test` : 'not tested yet' },
      { href: '/enforcement', label: 'Enforce single sign-on', done: enforced > 0, state: enforced > 0 ? 'enforced' : 'not enforced' },
      { href: '/users', label: 'Manage users', done: users.length > 0, state: `${users.length} managed users` },
    ];
    return sendHTML(
      reply,
      await renderScreen(ctx, req, {
        title: 'Single sign-on setup',
        section: 'overview',
        lead: 'Work through the steps in order. Nothing changes for your users until you enforce single sign-on.',
        body: html`<ol class="steps">${steps.map((s) => html`<li class="card"><a href="${s.href}">${s.label}</a> ${s.done ? badge('ok', 'Done') : badge('muted', 'To do')}<span class="hint">${s.state}</span></li>`)}</ol>`,
      }),
    );
  });
};
