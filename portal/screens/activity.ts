// The Sign-in activity screen: the organization's latest sign-ins and refusals as the sp-server
// recorded them, with each refusal's code and the advice for the admin. The sp-server keeps
// them (bounded, never in etcd); when it cannot be reached the screen says so instead of failing.
import type { FastifyPluginAsync } from 'fastify';
import { html, type SafeHtml } from '../../ui/html.ts';
import type { ActivityEntry, RouteOptions } from '../context.ts';
import { portalOf } from '../session/request-session.ts';
import { notice, renderScreen, sendHTML } from '../views/frame.ts';
import { ago, badge } from '../views/status.ts';

/** How many entries the screen asks for (the sp-server keeps 200 per organization). */
export const ACTIVITY_SHOWN = 100;

const OUTCOMES: Record<ActivityEntry['outcome'], { kind: 'ok' | 'bad'; label: string }> = {
  'signed-in': { kind: 'ok', label: 'Signed in' },
  refused: { kind: 'bad', label: 'Refused' },
  'test-passed': { kind: 'ok', label: 'Test passed' },
  'test-failed': { kind: 'bad', label: 'Test failed' },
};

function row(e: ActivityEntry, now: number): SafeHtml {
  const outcome = OUTCOMES[e.outcome];
  const time = Number.isNaN(Date.parse(e.time)) ? html`${e.time}` : ago(e.time, now);
  return html`<tr><td>${time}</td><td>${e.email ?? html`<span class="hint">unknown</span>`}${e.profile ? html`<span class="hint">${e.profile} (${e.protocol.toUpperCase()})</span>` : ''}</td><td>${badge(outcome.kind, outcome.label)}</td><td>${e.code ? html`<code>${e.code}</code>` : ''}${e.message ? html`<span class="hint">${e.message}</span>` : ''}</td><td>${e.advice ?? ''}</td></tr>`;
}

function table(entries: readonly ActivityEntry[]): SafeHtml {
  if (entries.length === 0) return html`<p class="empty">No sign-ins yet</p>`;
  const now = Date.now();
  return html`<table><caption>The latest sign-ins and refusals, newest first</caption><thead><tr><th scope="col">Time</th><th scope="col">User</th><th scope="col">Outcome</th><th scope="col">Code</th><th scope="col">Advice</th></tr></thead><tbody>${entries.map((e) => row(e, now))}</tbody></table>`;
}

export const activityScreen: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get('/activity', async (req, reply) => {
    const { session } = portalOf(req);
    let body: SafeHtml;
    if (!ctx.activity) body = notice('warn', 'Sign-in activity is unavailable: this portal is not connected to the sign-in service. Ask your platform team.');
    else {
      try {
        body = table(await ctx.activity.latest(session.namespace, ACTIVITY_SHOWN));
      } catch (err) {
        ctx.log.warn({ namespace: session.namespace, err: err instanceof Error ? err.message : String(err) }, 'sign-in activity unavailable');
        body = notice('warn', 'Sign-in activity is unavailable right now: the sign-in service did not answer. Try again in a minute.');
      }
    }
    return sendHTML(
      reply,
      await renderScreen(ctx, req, {
        title: 'Sign-in activity',
        section: 'activity',
        lead: 'The latest sign-ins and refusals of your organization, with what to do about each refusal.',
        body,
      }),
    );
  });
};
