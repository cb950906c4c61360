// Starting an SP-initiated login: remember the pending request (bound to this browser, within the
// pending-login caps) and send the browser to the IdP with an AuthnRequest.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isSAMLProfile } from '../../crds/api/index.ts';
import type { ProfileRef } from '../config/store.ts';
import type { AppContext, PendingLogin } from '../context.ts';
import { browserBinding, refusalReply } from '../http-util.ts';
import { clientKey } from '../limits/client-address.ts';
import { buildAuthnRequestRedirect } from '../saml/authn-request.ts';

export async function startLogin(
  gh: AppContext,
  req: FastifyRequest,
  reply: FastifyReply,
  ref: ProfileRef,
  login: Omit<PendingLogin, 'browser' | 'createdAt' | 'namespace' | 'profile'>,
): Promise<FastifyReply> {
  const forceAuthn = login.kind === 'test' || login.forceAuthn === true || ref.profile.forceAuthn;
  const profile = ref.profile;
  if (!isSAMLProfile(profile)) return refusalReply(reply, 'PROFILE_NOT_FOUND');
  const { url: location, id } = buildAuthnRequestRedirect(profile, { forceAuthn });
  const admission = await gh.pendingLogins.admit(clientKey(req), id);
  if (!admission.admitted) {
    gh.metrics.rateLimited.inc({ limit: `pending-logins-${admission.scope}` });
    req.log.warn({ code: 'TOO_MANY_PENDING_LOGINS', scope: admission.scope, client: clientKey(req) }, 'login start refused: pending-login cap');
    return refusalReply(reply.header('retry-after', String(admission.retryAfterSeconds)), 'TOO_MANY_PENDING_LOGINS', 'Too many sign-ins');
  }
  const pending: PendingLogin = {
    ...login,
    // What the request asked, so the ACS checks the AuthnInstant against it.
    forceAuthn,
    namespace: ref.org.namespace,
    profile: ref.profile.name,
    browser: browserBinding(req, reply, gh.secureCookies),
    createdAt: Date.now(),
  };
  await gh.store.put(`authn:${id}`, JSON.stringify(pending), gh.lifetimes.pendingMs);
  req.log.info({ requestID: id, profile: `${pending.namespace}/${pending.profile}`, kind: login.kind, client: login.clientId }, 'login started');
  return reply.code(302).header('cache-control', 'no-store').header('location', location).send();
}
