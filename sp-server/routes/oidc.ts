// The relying-party side of OIDC profiles toward their OpenID Providers: the callback that takes
// the provider's answer (state consumed once, code exchanged with PKCE, ID token validated by
// openid-client, then Gatehouse's identity checks and the shared login completion), and the
// JWKS a provider verifies private_key_jwt client assertions with.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import { z } from 'zod';
import { isOIDCProfile, type RenderedOrganization, type RenderedOIDCProfile } from '../../crds/api/index.ts';
import type { PendingLogin, SurfaceOptions } from '../context.ts';
import { BROWSER_COOKIE, readCookie, refusalReply, sha256b64url } from '../http-util.ts';
import { completeLogin, LoginRefusal, refuseLogin } from '../login/complete.ts';
import { pendingKeyOfState } from '../oidc/authorize.ts';
import { clientKeyOf } from '../oidc/client-key.ts';
import { refusalOfGrantError } from '../oidc/errors.ts';
import { checkReauthentication, identityFromClaims } from '../oidc/identity.ts';
import { quote } from '../saml/errors.ts';
import { OIDC_UPSTREAM_PATHS } from '../urls.ts';

const profileParams = z.object({ namespace: z.string().min(1).max(63), profile: z.string().min(1).max(253) });
/** The authorization response (RFC 6749 §4.1.2, RFC 9207's iss); providers add more (Google: authuser, hd, prompt), which is ignored. */
const callbackQuery = z.object({
  code: z.string().min(1).max(4096).optional(),
  state: z.string().min(1).max(512).optional(),
  iss: z.string().min(1).max(2048).optional(),
  error: z.string().min(1).max(256).optional(),
  error_description: z.string().max(2048).optional(),
});

interface OIDCProfileRef {
  org: RenderedOrganization;
  profile: RenderedOIDCProfile;
}

const REFUSED = 'OIDC login refused';

export const oidcSurface: FastifyPluginAsync<SurfaceOptions> = async (app, { ctx: gh }) => {
  app.get(OIDC_UPSTREAM_PATHS.callback, { schema: { params: profileParams, querystring: callbackQuery } }, async (req, reply) => {
    const { namespace, profile: name } = req.params as z.infer<typeof profileParams>;
    const q = req.query as z.infer<typeof callbackQuery>;
    const found = gh.config.profile(namespace, name);
    if (!found || !isOIDCProfile(found.profile)) return refusalReply(reply, 'PROFILE_NOT_FOUND');
    const ref: OIDCProfileRef = { org: found.org, profile: found.profile };
    // The state names the pending login, which is taken at once: a callback is answered once.
    const pendingRaw = q.state === undefined ? null : await gh.store.take(pendingKeyOfState(q.state));
    const pending = pendingRaw === null ? undefined : (JSON.parse(pendingRaw) as PendingLogin);
    try {
      const checked = checkPending(req, ref, q, pending);
      return await completeLogin(gh, req, reply, ref, checked, await signIn(ref, q, checked));
    } catch (err) {
      if (err instanceof LoginRefusal) return refuseLogin(gh, req, reply, ref, err, pending, REFUSED);
      throw err;
    }
  });

  app.get(OIDC_UPSTREAM_PATHS.jwks, { schema: { params: profileParams } }, async (req, reply) => {
    const { namespace, profile } = req.params as z.infer<typeof profileParams>;
    const ref = gh.config.profile(namespace, profile);
    if (!ref || !isOIDCProfile(ref.profile)) return reply.code(404).type('text/plain').send('no such OIDC profile\n');
    const key = await clientKeyOf(ref.profile.sp.key.privateKeyPem);
    return reply.header('cache-control', 'public, max-age=300').send({ keys: [key.publicJwk] });
  });

  /** The pending login the callback belongs to, when it is this browser's login at this profile. */
  function checkPending(req: FastifyRequest, ref: OIDCProfileRef, q: z.infer<typeof callbackQuery>, pending: PendingLogin | undefined): PendingLogin & { upstreamOIDC: NonNullable<PendingLogin['upstreamOIDC']> } {
    const namespace = ref.org.namespace;
    const name = ref.profile.name;
    if (q.error !== undefined) {
      // The provider's own refusal counts for the login it answers, when it names one of ours.
      const described = q.error_description ? `: ${quote(q.error_description)}` : '';
      throw new LoginRefusal('OIDC_UPSTREAM_ERROR', `the provider answered the sign-in with error ${quote(q.error)}${described}`);
    }
    if (q.state === undefined) throw new LoginRefusal('OIDC_STATE_INVALID', 'the callback carries no state');
    if (!pending || pending.upstreamOIDC === undefined) throw new LoginRefusal('OIDC_STATE_INVALID', 'the state matches no pending sign-in (expired, already used, or never started here)');
    if (pending.namespace !== namespace || pending.profile !== name) {
      throw new LoginRefusal('OIDC_STATE_INVALID', `the sign-in was started for profile ${pending.namespace}/${pending.profile}, the callback came to ${namespace}/${name}`);
    }
    const cookie = readCookie(req, BROWSER_COOKIE, gh.secureCookies);
    if (!cookie || sha256b64url(cookie) !== pending.browser) {
      throw new LoginRefusal('BROWSER_MISMATCH', 'the callback came to a browser other than the one that started the sign-in');
    }
    if (q.code === undefined) throw new LoginRefusal('OIDC_CALLBACK_INVALID', 'the callback carries no code');
    return pending as PendingLogin & { upstreamOIDC: NonNullable<PendingLogin['upstreamOIDC']> };
  }

  /** Exchanges the code and validates the ID token (openid-client), then applies Gatehouse's identity checks. */
  async function signIn(ref: OIDCProfileRef, q: z.infer<typeof callbackQuery>, pending: PendingLogin & { upstreamOIDC: NonNullable<PendingLogin['upstreamOIDC']> }) {
    const config = await gh.oidc.configuration(ref.org.namespace, ref.profile);
    // The redirect URI as registered, never as this request's Host header spells it.
    const callback = new URL(ref.profile.oidc.redirectURI);
    for (const k of ['code', 'state', 'iss'] as const) if (q[k] !== undefined) callback.searchParams.set(k, q[k]);
    let claims: client.IDToken | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: pending.upstreamOIDC.codeVerifier,
        expectedState: q.state,
        expectedNonce: pending.upstreamOIDC.nonce,
        idTokenExpected: true,
        ...(pending.maxAge !== undefined ? { maxAge: pending.maxAge } : {}),
      });
      claims = tokens.claims();
    } catch (err) {
      throw refusalOfGrantError(err);
    }
    if (!claims) throw new LoginRefusal('OIDC_TOKEN_RESPONSE_INVALID', 'the token response carries no ID token');
    checkReauthentication(claims, pending, ref.profile.allowedClockSkewSeconds);
    return identityFromClaims(ref.profile, claims);
  }
};
