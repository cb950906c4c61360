// A test run of a connection: when it started and which link it replaced (kept in the portal's
// state store, shared by replicas), what the live region shows, and the email of the fresh link
// once the operator has issued it.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SSOProfile } from '../../../crds/api/index.ts';
import { REFUSALS, type RefusalCode } from '../../../sp-server/refusals.ts';
import { html } from '../../../ui/html.ts';
import type { PortalContext } from '../../context.ts';
import type { Organization } from '../../organization.ts';

const RUN_TTL_MS = 2 * 3_600_000;
/** How long the portal waits for the operator to issue the link it emails. */
export const LINK_WAIT_MS = 60_000;
/** Test results are stamped with the sp-server's clock in whole seconds. */
const CLOCK_SLACK_MS = 5_000;

const run = z.object({
  startedAt: z.number(),
  email: z.string(),
  requestedBy: z.string(),
  /** The link the run replaces, hashed: a status.test.url with this hash is the old one. */
  previousURL: z.string(),
  mail: z.enum(['none', 'pending', 'sent', 'failed']),
  mailError: z.string().optional(),
});
export type TestRun = z.infer<typeof run>;

const runKey = (namespace: string, name: string) => `portal:test-run:${namespace}:${name}`;
export const urlHash = (url: string | undefined): string => (url ? createHash('sha256').update(url).digest('base64url') : '');

export async function saveRun(ctx: PortalContext, namespace: string, name: string, r: TestRun): Promise<void> {
  await ctx.state.put(runKey(namespace, name), JSON.stringify(r), RUN_TTL_MS);
}

export async function loadRun(ctx: PortalContext, namespace: string, name: string): Promise<TestRun | undefined> {
  const raw = await ctx.state.get(runKey(namespace, name));
  if (!raw) return undefined;
  const parsed = run.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : undefined;
}

/** The test link of the run: present once the operator has replaced the previous one, and unexpired. */
export function freshLink(p: SSOProfile, r: TestRun | undefined, now = Date.now()): { url: string; expiresAt: string } | undefined {
  const t = p.status?.test;
  if (!t?.url || !t.expiresAt || Date.parse(t.expiresAt) <= now) return undefined;
  if (r && urlHash(t.url) === r.previousURL) return undefined;
  return { url: t.url, expiresAt: t.expiresAt };
}

export interface TestState {
  result: { text: string; advice: string };
  url: string | null;
  expiresAt: string | null;
  /** What to expect while the link is not there yet. */
  link: { text: string };
  mail: { text: string };
  done: boolean;
}

/** What the live region shows: the run's link and result, and whether to keep polling. */
export function testState(p: SSOProfile, r: TestRun | undefined, now = Date.now()): TestState {
  const t = p.status?.test;
  const want = p.spec.test?.email.toLowerCase();
  const mine = !!t?.result && !!want && (t.email ?? '').toLowerCase() === want && (!r || Date.parse(t.attemptedTime ?? t.completedTime ?? '') >= r.startedAt - CLOCK_SLACK_MS);
  let text = 'Waiting for the test';
  let advice = '';
  if (mine && t?.result === 'Succeeded') text = 'Succeeded';
  else if (mine && t?.result === 'Failed') {
    text = `Failed: ${t.message ?? t.errorCode ?? 'the test sign-in failed'}${t.errorCode ? ` (${t.errorCode})` : ''}`;
    advice = REFUSALS[t.errorCode as RefusalCode]?.adminAdvice ?? '';
  }
  const link = freshLink(p, r, now);
  const mail =
    r?.mail === 'pending' ? `Emailing the test link to ${r.email} as soon as Gatehouse issues it…` : r?.mail === 'sent' ? `The test link was emailed to ${r.email}.` : r?.mail === 'failed' ? `The test link could not be emailed: ${r.mailError ?? 'the mail server refused it'}.` : '';
  const final = mine && (t?.result === 'Succeeded' || t?.result === 'Failed');
  const linkText = link ? `The link works until ${new Date(link.expiresAt).toUTCString()}.` : 'The link appears here when Gatehouse has issued it.';
  return { result: { text, advice }, url: link?.url ?? null, expiresAt: link?.expiresAt ?? null, link: { text: linkText }, mail: { text: mail }, done: final && r?.mail !== 'pending' };
}

function mailBody(o: { connection: string; organization: string; url: string; expiresAt: string; requestedBy: string; requestedAt: Date }) {
  const expires = new Date(o.expiresAt).toUTCString();
  const asked = o.requestedAt.toUTCString();
  const text = [
    `${o.requestedBy} asked you to test the single sign-on connection "${o.connection}" of ${o.organization} (${asked}).`,
    '',
    'Open this link while signed in to your identity provider with this email address:',
    o.url,
    '',
    `The link works until ${expires}. It only tests the connection: it does not sign you in to the application.`,
  ].join('\n');
  const markup = html`<p>${o.requestedBy} asked you to test the single sign-on connection “${o.connection}” of ${o.organization} (${asked}).</p><p>Open this link while signed in to your identity provider with this email address:</p><p><a href="${o.url}">${o.url}</a></p><p>The link works until ${expires}. It only tests the connection: it does not sign you in to the application.</p>`;
  return { text, html: markup.value };
}

/**
 * Waits (in the background of the request that started the run) for the fresh link, then emails
 * it. The run in the state store says how it went; an Event records the email.
 */
export async function emailWhenIssued(ctx: PortalContext, org: Organization, o: { name: string; organization: string; run: TestRun; waitMs?: number }): Promise<void> {
  const mailer = ctx.mailer;
  if (!mailer) return;
  const deadline = Date.now() + (o.waitMs ?? LINK_WAIT_MS);
  const finish = async (mail: 'sent' | 'failed', mailError?: string) => {
    const current = (await loadRun(ctx, org.namespace, o.name)) ?? o.run;
    // A newer run started meanwhile owns the mail state.
    if (current.startedAt !== o.run.startedAt) return;
    await saveRun(ctx, org.namespace, o.name, { ...current, mail, ...(mailError ? { mailError } : {}) });
  };
  try {
    for (;;) {
      const p = await org.get<SSOProfile>('SSOProfile', o.name);
      if (!p) return await finish('failed', 'the connection was deleted');
      const link = freshLink(p, o.run);
      if (link) {
        await mailer.send({ to: o.run.email, subject: `Test the single sign-on connection of ${o.organization}`, ...mailBody({ connection: p.spec.displayName ?? o.name, organization: o.organization, url: link.url, expiresAt: link.expiresAt, requestedBy: o.run.requestedBy, requestedAt: new Date(o.run.startedAt) }) });
        await finish('sent');
        await org.recordChange(p, 'TestLinkEmailed', `emailed the test link of ${o.name} to ${o.run.email}`);
        return;
      }
      if (Date.now() > deadline) return await finish('failed', 'Gatehouse did not issue a new test link in time; start the test again');
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (err) {
    ctx.log.warn({ err: err instanceof Error ? err.message : String(err), namespace: org.namespace, profile: o.name }, 'could not email the test link');
    await finish('failed', 'the mail server did not accept it').catch(() => {});
  }
}
