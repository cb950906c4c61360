// /connections/<name>: what to paste into the identity provider (with copy buttons and the SP
// metadata), the IdP Gatehouse trusts and its certificates' expiry, every check in plain words,
// and the latest refused sign-ins with the advice for the administrator.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { SSOProfile } from '../../../crds/api/index.ts';
import { REFUSALS, type RefusalCode } from '../../../sp-server/refusals.ts';
import { html, type SafeHtml } from '../../../ui/html.ts';
import type { RouteOptions } from '../../context.ts';
import { portalOf } from '../../session/request-session.ts';
import { copyable } from '../../views/forms.ts';
import { renderScreen, sendHTML } from '../../views/frame.ts';
import { ago, badge } from '../../views/status.ts';
import { conditionList } from './conditions.ts';

/** Certificates expiring sooner than this get a warning. */
export const CERTIFICATE_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;
export const CONNECTION_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}

function spValues(p: SSOProfile): SafeHtml {
  const sp = p.status?.sp;
  if (!sp || (!sp.entityID && !sp.redirectURI)) return html`<p>Gatehouse has not published them yet: reload in a moment.</p>`;
  if (sp.redirectURI)
    return html`<dl class="facts"><dt>Redirect URI</dt><dd>${copyable('sp-redirect-uri', sp.redirectURI)}</dd>${sp.jwksURL ? html`<dt>JWKS URL</dt><dd>${copyable('sp-jwks-url', sp.jwksURL)}</dd>` : ''}</dl>`;
  return html`<dl class="facts">
      <dt>SP entity ID (Audience, Identifier)</dt><dd>${copyable('sp-entity-id', sp.entityID ?? '')}</dd>
      <dt>ACS URL (Single sign-on URL, Reply URL)</dt><dd>${copyable('sp-acs-url', sp.acsURL ?? '')}</dd>
      <dt>SP metadata URL</dt><dd>${copyable('sp-metadata-url', sp.metadataURL ?? '')}</dd>
    </dl>${sp.metadataURL ? html`<p><a href="${sp.metadataURL}">Download SP metadata</a></p>` : ''}`;
}

function expiry(notAfter: string | undefined, now: number): SafeHtml {
  if (!notAfter) return html`unknown`;
  const left = Date.parse(notAfter) - now;
  const date = new Date(notAfter).toISOString().slice(0, 10);
  if (left <= 0) return html`${badge('bad', 'Expired')} on ${date}`;
  if (left < CERTIFICATE_WARNING_DAYS * DAY_MS) return html`${badge('warn', `Expires in ${Math.max(1, Math.floor(left / DAY_MS))} days`)} on ${date}: add your identity provider's next certificate before then.`;
  return html`${badge('ok', 'Valid')} until ${date}`;
}

function identityProvider(p: SSOProfile, now: number): SafeHtml {
  const idp = p.spec.idp;
  const seen = p.status?.idp;
  if (!idp) return html`<p>OpenID Provider ${p.spec.oidc?.issuer ?? ''}.</p>`;
  const source = idp.metadata?.url ? html`metadata URL <code>${idp.metadata.url}</code>` : idp.metadata?.xml ? html`uploaded metadata XML` : html`entered manually`;
  const certs = seen?.certificates ?? [];
  return html`<dl class="facts">
      <dt>Configured by</dt><dd>${source}</dd>
      <dt>IdP entity ID</dt><dd>${seen?.entityID ? html`<code>${seen.entityID}</code>` : 'not read yet'}</dd>
      <dt>SSO URL</dt><dd>${seen?.ssoURL ? html`<code>${seen.ssoURL}</code>` : 'not read yet'}</dd>
      ${seen?.metadataFetchedTime ? html`<dt>Metadata fetched</dt><dd>${ago(seen.metadataFetchedTime, now)}</dd>` : ''}
    </dl>
    ${
      certs.length
        ? html`<table><caption class="visually-hidden">Signing certificates</caption><thead><tr><th scope="col">Signing certificate</th><th scope="col">Expiry</th></tr></thead><tbody>${certs.map(
            (c) => html`<tr><td>${c.subject ?? 'certificate'}<span class="hint mono">SHA-256 ${c.fingerprintSHA256}</span></td><td>${expiry(c.notAfter, now)}</td></tr>`,
          )}</tbody></table>`
        : ''
    }`;
}

function recentFailures(p: SSOProfile, now: number): SafeHtml {
  const failures = p.status?.recentFailures ?? [];
  if (!failures.length) return html`<p>No refused sign-ins recently.</p>`;
  return html`<table><thead><tr><th scope="col">Code</th><th scope="col">What Gatehouse saw</th><th scope="col">What to do</th><th scope="col">Times</th><th scope="col">Last</th></tr></thead><tbody>${failures.map(
    (f) => html`<tr><td><code>${f.code}</code></td><td>${f.hint}</td><td>${REFUSALS[f.code as RefusalCode]?.adminAdvice ?? ''}</td><td>${f.count}</td><td>${ago(f.lastSeenTime, now)}</td></tr>`,
  )}</tbody></table>`;
}

export const connectionDetail: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get<{ Params: { name: string } }>('/connections/:name', async (req, reply) => {
    const { name } = req.params;
    if (!CONNECTION_NAME.test(name)) return notFound(reply);
    const p = await portalOf(req).org.get<SSOProfile>('SSOProfile', name);
    if (!p) return notFound(reply);
    const now = Date.now();
    const protocol = p.spec.oidc ? 'OpenID Connect' : 'SAML 2.0';
    return sendHTML(
      reply,
      await renderScreen(ctx, req, {
        title: `${p.spec.displayName ?? name} connection`,
        section: 'connections',
        lead: `${protocol} connection “${name}” for ${p.spec.domains.join(', ')}.`,
        body: html`
          <h2>Paste these into your identity provider</h2>${spValues(p)}
          <h2>Identity provider</h2>${identityProvider(p, now)}${p.spec.idp && !portalOf(req).readOnly ? html`<p><a href="/connections/${name}/edit">Edit the identity provider configuration</a></p>` : ''}
          <h2>State</h2>${conditionList(p)}
          <p><a class="button" href="/connections/${name}/test">Test connection</a></p>
          <h2>Recent refused sign-ins</h2>${recentFailures(p, now)}
          <p><a href="/connections">All connections</a></p>`,
      }),
    );
  });
};
