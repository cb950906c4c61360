// Starting an SP-initiated login: remember the pending request (bound to this browser, within the
// pending-login caps) and send the browser to the profile's upstream — a SAML IdP with an
// AuthnRequest, or an OpenID Provider with an authorization request (PKCE, state, nonce).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isOIDCProfile, isSAMLProfile } from '../../crds/api/index.ts';
import type { ProfileRef } from '../config/store.ts';
import type { AppContext, PendingLogin } from '../context.ts';
import { browserBinding, refusalReply } from '../http-util.ts';
import { clientKey } from '../limits/client-address.ts';
import { upstreamAuthorization } from '../oidc/authorize.ts';
import { pageFrame } from '../page-frame.ts';
import { buildAuthnRequestRedirect } from '../saml/authn-request.ts';

type LoginRequest = Omit<PendingLogin, 'browser' | 'createdAt' | 'namespace' | 'profile'>;

interface UpstreamRedirect {
  location: string;
  /** The pending login's key in the state store. */
  pendingKey: string;
  /** Names the login in the pending-login caps and the log. */
  requestID: string;
  pendingExtra?: Partial<PendingLogin>;
}

export async function startLogin(gh: AppContext, req: FastifyRequest, reply: FastifyReply, ref: ProfileRef, login: LoginRequest): Promise<FastifyReply> {
  const forceAuthn = login.kind === 'test' || login.forceAuthn === true || ref.profile.forceAuthn;
  const redirect = await upstreamRedirect(gh, ref, login, forceAuthn);
  if (!redirect) return refusalReply(reply, 'PROFILE_NOT_FOUND', undefined, pageFrame(gh, ref.org, login));
  const admission = await gh.pendingLogins.admit(clientKey(req), redirect.requestID);
  if (!admission.admitted) {
    gh.metrics.rateLimited.inc({ limit: `pending-logins-${admission.scope}` });
    req.log.warn({ code: 'TOO_MANY_PENDING_LOGINS', scope: admission.scope, client: clientKey(req) }, 'login start refused: pending-login cap');
    return refusalReply(reply.header('retry-after', String(admission.retryAfterSeconds)), 'TOO_MANY_PENDING_LOGINS', 'Too many sign-ins', pageFrame(gh, ref.org, login));
  }
  const pending: PendingLogin = {
    ...login,
    // What the request asked, so the ACS checks the AuthnInstant against it.
    forceAuthn,
    namespace: ref.org.namespace,
    profile: ref.profile.name,
    browser: browserBinding(req, reply, gh.secureCookies),
    createdAt: Date.now(),
    ...redirect.pendingExtra,
  };
  await gh.store.put(redirect.pendingKey, JSON.stringify(pending), gh.lifetimes.pendingMs);
  req.log.info({ requestID: redirect.requestID, profile: `${pending.namespace}/${pending.profile}`, kind: login.kind, client: login.clientId }, 'login started');
  return reply.code(302).header('cache-control', 'no-store').header('location', redirect.location).send();
}

async function upstreamRedirect(gh: AppContext, ref: ProfileRef, login: LoginRequest, forceAuthn: boolean): Promise<UpstreamRedirect | undefined> {
  const profile = ref.profile;
  if (isSAMLProfile(profile)) {
    const { url, id } = buildAuthnRequestRedirect(profile, { forceAuthn });
    return { location: url, pendingKey: `authn:${id}`, requestID: id };
  }
  if (isOIDCProfile(profile)) {
    const config = await gh.oidc.configuration(ref.org.namespace, profile);
    const started = await upstreamAuthorization(config, profile, { loginHint: login.loginHint, forceAuthn, maxAge: login.maxAge });
    return { location: started.url.toString(), pendingKey: started.pendingKey, requestID: started.pendingKey.slice('oidc:'.length), pendingExtra: { upstreamOIDC: started.upstream } };
  }
  return undefined;
}
