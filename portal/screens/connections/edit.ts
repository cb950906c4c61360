// /connections/<name>/edit: change a SAML connection's identity provider configuration and
// domains with the same form and checks as a new one. A spec changed since the form was shown
// (GitOps, kubectl, another admin: its generation moved) is a conflict shown with the current
// values, never overwritten; the operator's status writes in between are not edits, so the apply
// names the resourceVersion of the object read (and compared) just before.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { SSOProfile } from '../../../crds/api/index.ts';
import { html } from '../../../ui/html.ts';
import type { PortalContext, RouteOptions } from '../../context.ts';
import { PortalWriteError } from '../../organization.ts';
import { portalOf } from '../../session/request-session.ts';
import { fieldErrors } from '../../views/forms.ts';
import { notice, redirectWithNotice, renderScreen, sendHTML } from '../../views/frame.ts';
import { domainChoices } from './create.ts';
import { CONNECTION_NAME, notFound } from './detail.ts';
import { connectionForm, type DomainChoice } from './form-view.ts';
import { API_FIELD_MAP, readConnectionForm, validateConnection, type ConnectionForm, type FormErrors } from './idp-form.ts';
import { providerByLabel, providerOf, PROVIDERS, type Provider } from './providers.ts';

type Params = { Params: { name: string } };

/** The form filled in from the connection as it is. */
export function formOf(p: SSOProfile): ConnectionForm {
  const idp = p.spec.idp;
  return {
    provider: providerByLabel(p.spec.displayName)?.id ?? 'saml',
    name: p.metadata.name,
    domains: [...p.spec.domains],
    source: idp?.metadata?.url ? 'url' : idp?.metadata?.xml ? 'upload' : 'manual',
    metadataURL: idp?.metadata?.url ?? '',
    entityID: idp?.entityID ?? '',
    ssoURL: idp?.ssoURL ?? '',
    certificate: idp?.certificates?.[0] ?? '',
  };
}

async function renderEdit(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply, p: SSOProfile, o: { form: ConnectionForm; errors: FormErrors; domains: readonly DomainChoice[]; problem?: string; status?: number }): Promise<FastifyReply> {
  const edit = { generation: p.metadata.generation ?? 0, hasUploadedMetadata: !!p.spec.idp?.metadata?.xml };
  return sendHTML(
    reply,
    await renderScreen(ctx, req, {
      title: `Edit the ${p.spec.displayName ?? p.metadata.name} connection`,
      section: 'connections',
      lead: 'Change where Gatehouse reads your identity provider from, or the domains this connection serves.',
      body: html`${o.problem ? notice('error', o.problem) : Object.keys(o.errors).length ? notice('error', 'Nothing was changed: correct the fields marked below.') : ''}${connectionForm({ form: o.form, errors: o.errors, domains: o.domains, spServerURL: ctx.options.spServerURL, req, edit })}`,
    }),
    o.status ?? 200,
  );
}

async function samlProfile(req: FastifyRequest<Params>, reply: FastifyReply): Promise<SSOProfile | undefined> {
  const { name } = req.params;
  const p = CONNECTION_NAME.test(name) ? await portalOf(req).org.get<SSOProfile>('SSOProfile', name) : undefined;
  // OpenID Connect connections are configured elsewhere (kubectl, GitOps) for now.
  if (!p || !p.spec.idp) {
    await notFound(reply);
    return undefined;
  }
  return p;
}

export const connectionEdit: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get<Params>('/connections/:name/edit', async (req, reply) => {
    const p = await samlProfile(req, reply);
    if (!p) return reply;
    return renderEdit(ctx, req, reply, p, { form: formOf(p), errors: {}, domains: await domainChoices(req) });
  });

  app.post<Params>('/connections/:name/edit', async (req, reply) => {
    const p = await samlProfile(req, reply);
    if (!p) return reply;
    const { org } = portalOf(req);
    const domains = await domainChoices(req);
    const { form: posted, file } = readConnectionForm(req.body);
    const form = { ...posted, name: p.metadata.name };
    const seenGeneration = Number((req.body as Record<string, unknown> | undefined)?.generation);
    const keptXml = form.source === 'upload' && !file && p.spec.idp?.metadata?.xml ? Buffer.from(p.spec.idp.metadata.xml) : file;
    const checked = validateConnection(form, keptXml, { allowInsecureURLs: ctx.options.allowInsecureMetadataURLs, organizationDomains: domains.map((d) => d.domain) });
    if (!checked.idp) return renderEdit(ctx, req, reply, p, { form, errors: checked.errors, domains, status: 422 });
    const provider = providerOf(form.provider) ?? (PROVIDERS[0] as Provider);
    // The IdP configuration is replaced as a whole (metadata and manual entry exclude each other); the rest the portal owns stays.
    let updated: SSOProfile;
    try {
      const edit = await org.edit<SSOProfile>(
        'SSOProfile',
        p.metadata.name,
        (owned) => ({ ...owned, spec: { ...(owned.spec as Record<string, unknown> | undefined), displayName: provider.label, domains: form.domains, idp: checked.idp } }),
        { generation: Number.isFinite(seenGeneration) ? seenGeneration : -1 },
      );
      updated = edit.after;
    } catch (err) {
      if (!(err instanceof PortalWriteError)) throw err;
      if (err.kind === 'invalid') {
        const errors = fieldErrors(err.fields, API_FIELD_MAP) as FormErrors;
        return renderEdit(ctx, req, reply, p, { form, errors, domains, status: 422, ...(Object.keys(errors).length ? {} : { problem: `Nothing was changed: ${err.message}` }) });
      }
      // A conflict: show what the connection holds now, with the reason.
      const current = (await org.get<SSOProfile>('SSOProfile', p.metadata.name)) ?? p;
      return renderEdit(ctx, req, reply, current, { form: formOf(current), errors: {}, domains, problem: err.message, status: err.kind === 'read-only' || err.kind === 'forbidden' ? 403 : 409 });
    }
    const how = form.source === 'url' ? `metadata URL ${form.metadataURL}` : form.source === 'upload' ? 'uploaded metadata' : `entity ID ${form.entityID}`;
    await org.recordChange(updated, 'ConnectionChanged', `changed the SSO connection ${p.metadata.name} (${provider.label}, ${how}) for ${form.domains.join(', ')}`);
    return redirectWithNotice(ctx, req, reply, `/connections/${p.metadata.name}`, { kind: 'ok', message: `Connection ${p.metadata.name} saved. Gatehouse is checking the identity provider configuration again.` });
  });
};
