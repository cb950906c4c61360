// /connections (the organization's SSO connections and their state) and /connections/new
// (create one). A new connection is checked here first, then by the API server's schema and CEL
// rules; nothing is created when either refuses, and the form comes back with the admin's input.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { SSOProfile, VerifiedDomain } from '../../../crds/api/index.ts';
import { html } from '../../../ui/html.ts';
import type { PortalContext, RouteOptions } from '../../context.ts';
import { PortalWriteError } from '../../organization.ts';
import { portalOf } from '../../session/request-session.ts';
import { fieldErrors } from '../../views/forms.ts';
import { notice, redirectWithNotice, renderScreen, sendHTML } from '../../views/frame.ts';
import { conditionOf } from '../../views/status.ts';
import { isOIDC, summaryOf } from './conditions.ts';
import { connectionForm, type DomainChoice } from './form-view.ts';
import { API_FIELD_MAP, readConnectionForm, validateConnection, type ConnectionForm, type FormErrors } from './idp-form.ts';
import { providerOf, PROVIDERS, type Provider } from './providers.ts';

export async function domainChoices(req: FastifyRequest): Promise<DomainChoice[]> {
  const domains = await portalOf(req).org.list<VerifiedDomain>('VerifiedDomain');
  return domains
    .map((d) => ({ domain: d.spec.domain, verified: conditionOf(d.status?.conditions, 'Verified')?.status === 'True' }))
    .sort((a, b) => a.domain.localeCompare(b.domain));
}

function emptyForm(provider: Provider, domains: readonly DomainChoice[]): ConnectionForm {
  return { provider: provider.id, name: provider.defaultName, domains: domains.length === 1 ? [domains[0]?.domain ?? ''] : [], source: provider.defaultSource, metadataURL: '', entityID: '', ssoURL: '', certificate: '' };
}

async function renderNew(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply, form: ConnectionForm, errors: FormErrors, domains: readonly DomainChoice[], status = 200, problem?: string): Promise<FastifyReply> {
  return sendHTML(
    reply,
    await renderScreen(ctx, req, {
      title: 'New SSO connection',
      section: 'connections',
      lead: 'Connect your identity provider over SAML 2.0. Nothing changes for your users until you test the connection and enforce single sign-on.',
      body: html`${problem ? notice('error', problem) : Object.keys(errors).length ? notice('error', 'Nothing was created: correct the fields marked below.') : ''}${connectionForm({ form, errors, domains, spServerURL: ctx.options.spServerURL, req })}`,
    }),
    status,
  );
}

export const connectionCreation: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get('/connections', async (req, reply) => {
    const { org, readOnly } = portalOf(req);
    const profiles = (await org.list<SSOProfile>('SSOProfile')).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const rows = profiles.map((p) => {
      const s = summaryOf(p);
      return html`<tr><td><a href="/connections/${p.metadata.name}">${p.spec.displayName ?? p.metadata.name}</a><span class="hint">${p.metadata.name}</span></td><td>${isOIDC(p) ? 'OpenID Connect' : 'SAML 2.0'}</td><td>${p.spec.domains.join(', ')}</td><td>${s.badge}<span class="hint">${s.text}</span></td></tr>`;
    });
    return sendHTML(
      reply,
      await renderScreen(ctx, req, {
        title: 'SSO connections',
        section: 'connections',
        lead: 'Each connection links your identity provider to Gatehouse for the domains it serves.',
        body: html`${readOnly ? '' : html`<p><a class="button" href="/connections/new">New connection</a></p>`}${
          profiles.length
            ? html`<table><thead><tr><th scope="col">Connection</th><th scope="col">Protocol</th><th scope="col">Domains</th><th scope="col">State</th></tr></thead><tbody>${rows}</tbody></table>`
            : html`<p>No connections yet.</p>`
        }`,
      }),
    );
  });

  app.get<{ Querystring: { provider?: string } }>('/connections/new', async (req, reply) => {
    const domains = await domainChoices(req);
    const provider = providerOf(req.query.provider) ?? (PROVIDERS[0] as Provider);
    return renderNew(ctx, req, reply, emptyForm(provider, domains), {}, domains);
  });

  app.post('/connections/new', async (req, reply) => {
    const { org } = portalOf(req);
    const domains = await domainChoices(req);
    const { form, file } = readConnectionForm(req.body);
    const checked = validateConnection(form, file, { allowInsecureURLs: ctx.options.allowInsecureMetadataURLs, organizationDomains: domains.map((d) => d.domain) });
    if (!checked.idp) return renderNew(ctx, req, reply, form, checked.errors, domains, 422);
    // An apply to an existing name would merge into that connection: a new one must be new.
    if (await org.get<SSOProfile>('SSOProfile', form.name)) return renderNew(ctx, req, reply, form, { name: 'A connection with this name exists already; choose another name.' }, domains, 422);
    const provider = providerOf(form.provider) ?? (PROVIDERS[0] as Provider);
    let created: SSOProfile;
    try {
      created = await org.apply<SSOProfile>('SSOProfile', form.name, { spec: { displayName: provider.label, idp: checked.idp, domains: form.domains } });
    } catch (err) {
      if (!(err instanceof PortalWriteError)) throw err;
      if (err.kind === 'invalid') {
        const errors = fieldErrors(err.fields, API_FIELD_MAP) as FormErrors;
        return renderNew(ctx, req, reply, form, errors, domains, 422, Object.keys(errors).length ? undefined : `Nothing was created: ${err.message}`);
      }
      return renderNew(ctx, req, reply, form, {}, domains, err.kind === 'read-only' || err.kind === 'forbidden' ? 403 : 409, err.message);
    }
    const how = form.source === 'url' ? `metadata URL ${form.metadataURL}` : form.source === 'upload' ? 'uploaded metadata' : `entity ID ${form.entityID}`;
    await org.recordChange(created, 'ConnectionCreated', `created the SSO connection ${form.name} (${provider.label}, ${how}) for ${form.domains.join(', ')}`);
    return redirectWithNotice(ctx, req, reply, `/connections/${form.name}`, { kind: 'ok', message: `Connection ${form.name} created. Gatehouse is checking the identity provider configuration: the state below updates when you reload.` });
  });
};
