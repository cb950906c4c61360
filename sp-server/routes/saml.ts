// The SAML service provider: metadata, the Assertion Consumer Service, and the test link (which
// starts a test login through whichever upstream the profile has).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isSAMLProfile } from '../../crds/api/index.ts';
import type { ProfileRef } from '../config/store.ts';
import type { AppContext, PendingLogin, SurfaceOptions } from '../context.ts';
import { recordRefusal } from '../activity/record.ts';
import { errorPage } from '../html.ts';
import { BROWSER_COOKIE, html, readCookie, refusalReply, sha256b64url } from '../http-util.ts';
import { completeLogin, LoginRefusal, refuseLogin, testLinkUsable, type UpstreamIdentity } from '../login/complete.ts';
import { rememberRestart } from '../login/restart.ts';
import { pageFrame } from '../page-frame.ts';
import { SP_METADATA_CONTENT_TYPE, spMetadata } from '../saml/metadata.ts';
import { startLogin } from '../login/start.ts';
import { REFUSALS } from '../refusals.ts';
import { isSamlValidationError, quote, type SamlValidationError } from '../saml/errors.ts';
import { peekInResponseTo, type AuthnRequestFacts, type ValidatedAssertion } from '../saml/validate.ts';
import { storeReplayCache } from '../state/store.ts';
import { ServerBusyError } from '../saml/validation-pool.ts';

const profileParams = z.object({ namespace: z.string().min(1).max(63), profile: z.string().min(1).max(253) });

export const samlSurface: FastifyPluginAsync<SurfaceOptions> = async (app, { ctx: gh }) => {
  const replay = storeReplayCache(gh.store);

  app.get('/saml/:namespace/:profile/metadata', { schema: { params: profileParams } }, async (req, reply) => {
    const { namespace, profile } = req.params as z.infer<typeof profileParams>;
    const ref = gh.config.profile(namespace, profile);
    if (!ref) return reply.code(404).type('text/plain').send('no such SSO profile\n');
    return reply.type(`${SP_METADATA_CONTENT_TYPE}; charset=utf-8`).header('cache-control', 'no-cache').send(spMetadata(ref.profile));
  });

  app.get('/test/:token', { schema: { params: z.object({ token: z.string().min(16).max(256) }) } }, async (req, reply) => {
    const { token } = req.params as { token: string };
    const ref = gh.config.profileForTestToken(token);
    if (!ref || !ref.profile.test) return html(reply, 404, errorPage('Test link not valid', 'This test link is unknown or no longer active. Copy the current link from the SSOProfile status.'));
    const link = ref.profile.test;
    if (!testLinkUsable(link, Date.now())) {
      // An expired link changes nothing, not even the test result: it is only reported.
      const hint = link.expiresAt ? `the test link expired at ${link.expiresAt}` : 'the test link has no expiry (rendered by an older operator)';
      gh.metrics.samlRejections.inc({ code: REFUSALS.TEST_LINK_EXPIRED.metricLabel });
      gh.status.recordFailure(ref.org.namespace, ref.profile.name, 'TEST_LINK_EXPIRED', hint);
      req.log.warn({ profile: `${ref.org.namespace}/${ref.profile.name}`, code: 'TEST_LINK_EXPIRED', hint }, 'test link refused');
      recordRefusal(gh.activity, ref, 'TEST_LINK_EXPIRED', 'test-failed');
      return refusalReply(reply, 'TEST_LINK_EXPIRED', 'Test link expired', pageFrame(gh, ref.org));
    }
    const email = link.email.toLowerCase();
    void gh.status.recordTest(ref.org.namespace, ref.profile.name, { result: 'Pending', email, attemptedTime: new Date().toISOString() });
    return startLogin(gh, req, reply, ref, { kind: 'test', loginHint: email, testLink: sha256b64url(token) });
  });

  app.post('/saml/:namespace/:profile/acs', { schema: { params: profileParams }, bodyLimit: gh.acsBodyLimitBytes }, async (req, reply) => {
    const stop = gh.metrics.acsDuration.startTimer();
    try {
      return await acs(gh, req, reply);
    } catch (err) {
      if (!(err instanceof ServerBusyError)) throw err;
      // Nothing was checked and the pending login is untouched: the browser may post again.
      gh.metrics.samlRejections.inc({ code: REFUSALS.SERVER_BUSY.metricLabel });
      req.log.warn({ code: 'SERVER_BUSY', hint: err.message }, 'SAML response refused unchecked: validation queue full');
      return refusalReply(reply.header('retry-after', '1'), 'SERVER_BUSY');
    } finally {
      stop();
    }
  });

  async function acs(gh: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { namespace, profile: name } = req.params as z.infer<typeof profileParams>;
    const found = gh.config.profile(namespace, name);
    if (!found || !isSAMLProfile(found.profile)) return refusalReply(reply, 'PROFILE_NOT_FOUND');
    const ref = { org: found.org, profile: found.profile };
    const body = (req.body ?? {}) as Record<string, unknown>;
    const samlResponse = typeof body.SAMLResponse === 'string' ? body.SAMLResponse : '';
    if (!samlResponse) return refuse(req, reply, ref, new LoginRefusal('MALFORMED_RESPONSE', 'the POST carries no SAMLResponse'), undefined);

    const inResponseTo = peekInResponseTo(samlResponse);
    if (inResponseTo === null) {
      // Only a response that passed every check but InResponseTo (its assertion ID now spent)
      // restarts a login: the validator raises UNSOLICITED_RESPONSE for nothing else.
      try {
        await gh.validate(samlResponse, { profile: ref.profile, organization: namespace, expectedInResponseTo: null, replay });
      } catch (err) {
        if (isSamlValidationError(err) && err.code === 'UNSOLICITED_RESPONSE') return unsolicited(req, reply, ref);
        if (isSamlValidationError(err)) return refuse(req, reply, ref, err, undefined);
        throw err;
      }
      return refuse(req, reply, ref, new LoginRefusal('UNSOLICITED_RESPONSE', 'a response without InResponseTo was not refused by the validator'), undefined);
    }

    const pendingKey = `authn:${inResponseTo}`;
    const pendingRaw = await gh.store.get(pendingKey);
    const pending = pendingRaw ? (JSON.parse(pendingRaw) as PendingLogin) : undefined;

    let assertion: ValidatedAssertion;
    try {
      // Without a pending request the response is still validated (so a replay is reported as
      // one), but it is refused afterwards.
      assertion = await gh.validate(samlResponse, { profile: ref.profile, organization: namespace, expectedInResponseTo: inResponseTo, replay, ...(pending ? { authnRequest: authnRequestOf(pending) } : {}) });
      if (!pending) throw new LoginRefusal('UNSOLICITED_RESPONSE', `InResponseTo ${quote(inResponseTo)} matches no pending sign-in (expired, already used, or never started here)`);
      if (pending.namespace !== namespace || pending.profile !== name) {
        throw new LoginRefusal('IN_RESPONSE_TO_MISMATCH', `the sign-in was started for profile ${pending.namespace}/${pending.profile}, the response came to ${namespace}/${name}`);
      }
      const cookie = readCookie(req, BROWSER_COOKIE, gh.secureCookies);
      if (!cookie || sha256b64url(cookie) !== pending.browser) {
        throw new LoginRefusal('BROWSER_MISMATCH', 'the response was posted by a browser other than the one that started the sign-in');
      }
      // One response per pending request, even across replicas.
      if ((await gh.store.take(pendingKey)) === null) throw new LoginRefusal('ASSERTION_REPLAYED', 'the pending sign-in was already completed');
    } catch (err) {
      if (err instanceof LoginRefusal || isSamlValidationError(err)) return refuse(req, reply, ref, err, pending);
      throw err;
    }

    return completeLogin(gh, req, reply, ref, pending, identityOf(assertion, ref.profile.idp.entityID));
  }

  async function unsolicited(req: FastifyRequest, reply: FastifyReply, ref: ProfileRef): Promise<FastifyReply> {
    // Never a login: the browser starts over as an SP-initiated login through the application.
    gh.metrics.unsolicited.inc();
    gh.metrics.samlRejections.inc({ code: REFUSALS.UNSOLICITED_RESPONSE.metricLabel });
    const client = [...gh.clients.values()].find((c) => c.idp_initiated_default);
    req.log.warn({ profile: `${ref.org.namespace}/${ref.profile.name}`, code: 'UNSOLICITED_RESPONSE', restartClient: client?.client_id ?? null }, 'IdP-initiated response not accepted; restarting as SP-initiated');
    if (!client?.initiate_login_uri) {
      recordRefusal(gh.activity, ref, 'UNSOLICITED_RESPONSE', 'refused');
      return html(reply, 400, errorPage('Start from the application', 'Sign-ins started at your identity provider are not accepted here. Open the application and choose single sign-on.', 'UNSOLICITED_RESPONSE', pageFrame(gh, ref.org, { clientId: client?.client_id })));
    }
    await rememberRestart(gh, reply, ref);
    const target = new URL(client.initiate_login_uri);
    target.searchParams.set('iss', gh.issuer);
    return reply.code(303).header('cache-control', 'no-store').header('location', target.toString()).send();
  }

  function refuse(req: FastifyRequest, reply: FastifyReply, ref: ProfileRef, err: SamlValidationError | LoginRefusal, pending: PendingLogin | undefined): Promise<FastifyReply> {
    return refuseLogin(gh, req, reply, ref, err, pending);
  }
};

/** What the pending login's AuthnRequest asked of the IdP, for the AuthnInstant checks. */
function authnRequestOf(pending: PendingLogin): AuthnRequestFacts {
  return { requestedAt: new Date(pending.createdAt), forceAuthn: pending.forceAuthn === true, ...(pending.maxAge !== undefined ? { maxAgeSeconds: pending.maxAge } : {}) };
}

/** Who the assertion says signed in, for the login's completion. */
function identityOf(assertion: ValidatedAssertion, entityID: string): UpstreamIdentity {
  return {
    email: assertion.nameID.trim().toLowerCase(),
    displayName: firstAttr(assertion, ['displayName', 'name', 'http://schemas.microsoft.com/identity/claims/displayname']),
    groupValues: (attribute) => assertion.attributes[attribute] ?? [],
    authTime: assertion.authnInstant,
    upstream: entityID,
    logFields: { assertionID: assertion.assertionID },
  };
}

function firstAttr(a: ValidatedAssertion, names: string[]): string | undefined {
  for (const n of names) {
    const v = a.attributes[n]?.[0];
    if (v) return v.slice(0, 256);
  }
  return undefined;
}
