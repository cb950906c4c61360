// Domains: the organization's VerifiedDomains with the TXT record to publish, their state in
// plain words and the check times; add a domain, re-check one now. A domain another organization
// verified is reported by the operator in status, never looked up here: a session sees only its
// own organization.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DNS_NAME_PATTERN } from '../../crds/api/common.ts';
import type { VerifiedDomain } from '../../crds/api/index.ts';
import { RECHECK_ANNOTATION } from '../../crds/api/verified-domain.ts';
import { html, type SafeHtml } from '../../ui/html.ts';
import type { PortalContext, RouteOptions } from '../context.ts';
import { PortalWriteError, type Organization } from '../organization.ts';
import { portalOf } from '../session/request-session.ts';
import { copyable, csrfField, disabledIfReadOnly, fieldErrors, inputField } from '../views/forms.ts';
import { redirectWithNotice, renderScreen, sendHTML } from '../views/frame.ts';
import { refuseIfReadOnly } from '../views/read-only.ts';
import { ago } from '../views/status.ts';
import { domainStatus } from './domain-status.ts';
import { objectName } from './object-name.ts';

/** Any new value makes the operator check the domain's TXT record at once. */

const DOMAIN_HINT = 'The part after the @ in your users’ email addresses, e.g. example.com.';
const domainInput = z.object({ domain: z.string().max(300).default('') });
const domainValue = z
  .string()
  .transform((s) => s.trim().toLowerCase().replace(/^@/, '').replace(/\.$/, ''))
  .pipe(
    z
      .string()
      .min(1, 'Enter a domain, e.g. example.com.')
      .max(253, 'A domain has at most 253 characters.')
      .regex(new RegExp(DNS_NAME_PATTERN), 'Enter a domain such as example.com: letters, digits and hyphens, with at least one dot, no spaces, no https:// and no @.'),
  );

/** The object name for a domain: dots become dashes; a name another domain took gets a suffix. */
export function nameFor(domain: string, taken: ReadonlyMap<string, string>): string {
  const base = domain.replace(/\./g, '-');
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base.slice(0, 250)}-${i}`;
    const holder = taken.get(name);
    if (holder === undefined || holder === domain) return name;
  }
}

function domainCard(req: FastifyRequest, vd: VerifiedDomain): SafeHtml {
  const name = vd.metadata.name;
  const status = domainStatus(vd);
  const v = vd.status?.verification;
  const record = v?.recordName && v.recordValue
    ? html`<dl class="facts"><dt>TXT record name</dt><dd>${copyable(`txt-name-${name}`, v.recordName)}</dd><dt>TXT record value</dt><dd>${copyable(`txt-value-${name}`, v.recordValue)}</dd></dl>`
    : '';
  const checks = html`<dl class="facts"><dt>Last check</dt><dd>${ago(v?.lastCheckedTime)}</dd>${v?.nextCheckTime ? html`<dt>Next check</dt><dd>${ago(v.nextCheckTime)}</dd>` : ''}${v?.lapseTime && status.state !== 'conflict' ? html`<dt>Verified until</dt><dd>${ago(v.lapseTime)} unless the record is found again</dd>` : ''}</dl>`;
  return html`<section class="card" aria-labelledby="vd-${name}"><h2 id="vd-${name}">${vd.spec.domain} ${status.badge}</h2><p>${status.explanation}</p>${record}${checks}<form method="post" action="/domains/${name}/recheck" class="inline-form">${csrfField(req)}<button type="submit" class="secondary"${disabledIfReadOnly(req)}>Re-check now</button></form></section>`;
}

async function renderDomains(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply, form: { value?: string; error?: string } = {}, status = 200): Promise<FastifyReply> {
  const { org } = portalOf(req);
  const domains = (await org.list<VerifiedDomain>('VerifiedDomain')).sort((a, b) => a.spec.domain.localeCompare(b.spec.domain));
  const add = html`<form method="post" action="/domains" class="card">${csrfField(req)}<h2>Add a domain</h2><fieldset${disabledIfReadOnly(req)}><legend class="visually-hidden">New domain</legend>${inputField({ id: 'domain', name: 'domain', label: 'Domain', value: form.value, error: form.error, hint: DOMAIN_HINT, required: true, autocomplete: 'off' })}<button type="submit">Add domain</button></fieldset></form>`;
  const list = domains.length ? domains.map((d) => domainCard(req, d)) : html`<p>No domains yet. Add the email domain of your users to start.</p>`;
  return sendHTML(
    reply,
    await renderScreen(ctx, req, {
      title: 'Domains',
      section: 'domains',
      lead: 'Prove that your organization controls its email domains by publishing a DNS TXT record. Single sign-on applies only to verified domains.',
      body: html`${add}${list}`,
    }),
    status,
  );
}

/** Sets the recheck annotation on top of what the portal already applied. */
async function requestRecheck(org: Organization, name: string): Promise<{ vd: VerifiedDomain; updated: VerifiedDomain }> {
  const { before, after } = await org.edit<VerifiedDomain>('VerifiedDomain', name, (owned) => ({
    ...owned,
    metadata: { ...owned.metadata, annotations: { ...owned.metadata?.annotations, [RECHECK_ANNOTATION]: new Date().toISOString() } },
  }));
  return { vd: before, updated: after };
}

export const domainsScreen: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get('/domains', async (req, reply) => renderDomains(ctx, req, reply));

  app.post('/domains', async (req, reply) => {
    refuseIfReadOnly(req);
    const { org } = portalOf(req);
    const raw = domainInput.safeParse(req.body).data?.domain ?? '';
    const parsed = domainValue.safeParse(raw);
    if (!parsed.success) return renderDomains(ctx, req, reply, { value: raw, error: parsed.error.issues[0]?.message ?? 'Enter a domain such as example.com.' }, 422);
    const domain = parsed.data;
    const existing = await org.list<VerifiedDomain>('VerifiedDomain');
    if (existing.some((d) => d.spec.domain === domain)) return renderDomains(ctx, req, reply, { value: raw, error: `${domain} is already a domain of this organization (see below).` }, 422);
    if (await org.domainVerifiedElsewhere(domain))
      return renderDomains(ctx, req, reply, { value: raw, error: `${domain} is already verified by another organization, which keeps it. If your organization controls its DNS, ask the team that runs Gatehouse to release it.` }, 409);
    const name = nameFor(domain, new Map(existing.map((d) => [d.metadata.name, d.spec.domain])));
    let created: VerifiedDomain;
    try {
      created = await org.apply<VerifiedDomain>('VerifiedDomain', name, { spec: { domain } });
    } catch (err) {
      if (err instanceof PortalWriteError && err.kind === 'invalid') return renderDomains(ctx, req, reply, { value: raw, error: fieldErrors(err.fields, { 'spec.domain': 'domain' }).domain ?? err.message }, 422);
      throw err;
    }
    await org.recordChange(created, 'DomainAdded', `added the domain ${domain}`);
    return redirectWithNotice(ctx, req, reply, '/domains', { kind: 'ok', message: `Added ${domain}. Publish the TXT record shown for it at your DNS provider; Gatehouse checks it shortly and then periodically.` });
  });

  app.post<{ Params: { name: string } }>('/domains/:name/recheck', async (req, reply) => {
    refuseIfReadOnly(req);
    const { org } = portalOf(req);
    const name = objectName.safeParse(req.params.name);
    if (!name.success) throw new PortalWriteError('not-found', 'That domain no longer exists in this organization.');
    const { vd, updated } = await requestRecheck(org, name.data);
    await org.recordChange(updated, 'DomainRecheckRequested', `asked for a check of the TXT record of ${vd.spec.domain} now`);
    return redirectWithNotice(ctx, req, reply, '/domains', { kind: 'ok', message: `Gatehouse checks the TXT record of ${vd.spec.domain} now. Reload this page in a few seconds to see the result.` });
  });
};
