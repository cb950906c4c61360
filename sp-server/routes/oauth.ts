// The OAuth 2.0 / OIDC facade toward the application: authorization (email-first, a browser
// page), and the JSON endpoints token, userinfo, discovery and JWKS.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { jwtVerify, createLocalJWKSet } from 'jose';
import { z } from 'zod';
import { domainOf, EMAIL } from '../config/store.ts';
import type { CodeGrant, SurfaceOptions } from '../context.ts';
import { jsonErrorHandler } from '../error-handlers.ts';
import { emailPage, errorPage } from '../html.ts';
import { EMAIL_PAGE_CSP, html, refusalReply, sha256b64url } from '../http-util.ts';
import { recordRefusal } from '../activity/record.ts';
import { takeRestart } from '../login/restart.ts';
import { startLogin } from '../login/start.ts';
import { authenticateClient, BASIC_CHALLENGE } from '../oauth/client-auth.ts';
import { signJwt } from '../oauth/jwt-sign.ts';
import { CLAIMS_SUPPORTED, grantScope, releasedClaims, SCOPES } from '../oauth/scopes.ts';
import { OAUTH_PATHS, oauthURL } from '../urls.ts';
import { organizationName, pageFrame } from '../page-frame.ts';

const PKCE = /^[A-Za-z0-9\-._~]{43,128}$/;

const authorizeQuery = z.object({
  client_id: z.string().max(256).optional(),
  redirect_uri: z.string().max(2048).optional(),
  response_type: z.string().max(64).optional(),
  scope: z.string().max(1024).optional(),
  state: z.string().max(2048).optional(),
  nonce: z.string().max(1024).optional(),
  code_challenge: z.string().max(256).optional(),
  code_challenge_method: z.string().max(32).optional(),
  login_hint: z.string().max(320).optional(),
  prompt: z.string().max(64).optional(),
  max_age: z.string().max(16).optional(),
});

const tokenBody = z.object({
  grant_type: z.string().max(64).optional(),
  code: z.string().max(256).optional(),
  redirect_uri: z.string().max(2048).optional(),
  client_id: z.string().max(256).optional(),
  client_secret: z.string().max(1024).optional(),
  code_verifier: z.string().max(256).optional(),
});

export const oauthSurface: FastifyPluginAsync<SurfaceOptions> = async (app, { ctx: gh }) => {
  const keys = gh.signingKeys;
  const publicJwks = { keys: keys.all.map((k) => k.publicJwk) };
  const jwks = createLocalJWKSet(publicJwks);
  // A client whose algorithm has no key would fail at its first login: refuse to start instead.
  for (const client of gh.clients.values()) {
    if (!keys.forAlg(client.id_token_signed_response_alg)) {
      const has = keys.all.map((k) => k.alg).join(', ');
      throw new Error(`client ${client.client_id} signs ID tokens with ${client.id_token_signed_response_alg}, but only ${has} keys are loaded: add the key, or set its idTokenSignedResponseAlg to ${has}`);
    }
  }

  app.get(OAUTH_PATHS.authorize, { schema: { querystring: authorizeQuery } }, async (req, reply) => {
    const q = req.query as z.infer<typeof authorizeQuery>;
    const client = q.client_id ? gh.clients.get(q.client_id) : undefined;
    // Never redirect to an unregistered URI: those errors are shown, not sent.
    if (!client) return html(reply, 400, errorPage('Sign-in failed', 'The application sent an unknown client_id.', 'invalid_client'));
    if (!q.redirect_uri || !client.redirect_uris.includes(q.redirect_uri)) {
      return html(reply, 400, errorPage('Sign-in failed', 'The application sent a redirect_uri that is not registered for it.', 'invalid_redirect_uri'));
    }
    const back = (error: string, description: string) => {
      const u = new URL(q.redirect_uri as string);
      u.searchParams.set('error', error);
      u.searchParams.set('error_description', description);
      if (q.state !== undefined) u.searchParams.set('state', q.state);
      u.searchParams.set('iss', gh.issuer);
      return reply.code(302).header('location', u.toString()).send();
    };
    if (q.response_type !== 'code') return back('unsupported_response_type', 'only response_type=code is supported');
    if (q.code_challenge_method !== 'S256') return back('invalid_request', 'PKCE with code_challenge_method=S256 is required');
    if (!q.code_challenge || !PKCE.test(q.code_challenge)) return back('invalid_request', 'a valid code_challenge is required');
    const scope = grantScope(q.scope, client.allowed_scopes);
    if ('error' in scope) return back(scope.error, scope.description);
    if (q.prompt === 'none') return back('login_required', 'interactive login required');
    if (q.max_age !== undefined && !/^\d{1,9}$/.test(q.max_age)) return back('invalid_request', 'max_age must be a non-negative integer');
    // Gatehouse cannot know how old the IdP's session is, so any max_age asks the IdP to
    // authenticate again (ForceAuthn), and the ACS checks the AuthnInstant against it.
    const maxAge = q.max_age === undefined ? undefined : Number(q.max_age);
    const flow = {
      kind: 'login' as const,
      clientId: client.client_id,
      redirectUri: q.redirect_uri,
      codeChallenge: q.code_challenge,
      scope: scope.granted,
      ...(q.state !== undefined ? { state: q.state } : {}),
      ...(q.nonce !== undefined ? { nonce: q.nonce } : {}),
      ...(q.prompt?.split(' ').includes('login') || maxAge !== undefined ? { forceAuthn: true } : {}),
      ...(maxAge !== undefined ? { maxAge } : {}),
    };

    // The email is not known yet: the page names no organization, but leads back to the application.
    const frame = pageFrame(gh, undefined, { clientId: client.client_id, redirectUri: q.redirect_uri });
    const params = Object.fromEntries(Object.entries(q).filter((e): e is [string, string] => typeof e[1] === 'string'));
    if (!q.login_hint) {
      // After an IdP-initiated attempt, the restarted login goes straight back to that IdP.
      const restart = await takeRestart(gh, req, reply);
      if (restart) return startLogin(gh, req, reply, restart, flow);
      return html(reply, 200, emailPage(params, undefined, frame), EMAIL_PAGE_CSP);
    }
    const email = q.login_hint.toLowerCase();
    if (!EMAIL.test(email)) return html(reply, 400, emailPage(params, 'Enter a valid work email address.', frame), EMAIL_PAGE_CSP);
    const ref = gh.config.profileForEmail(email);
    if (!ref) {
      // An enforced address whose profile is out of service (a broken IdP connection, a lapsed
      // verification) has no other way in: say so, rather than point at a password.
      const domain = domainOf(email);
      const org = gh.config.organizationForDomain(domain);
      const enforced = org !== undefined && (gh.config.enforcementWithoutProfile(domain) !== undefined || gh.users.byEmail(email).some((u) => u.namespace === org.namespace && u.sso?.enforced === true));
      if (enforced) return html(reply, 503, emailPage(params, 'Single sign-on for this address is temporarily unavailable: your organization\'s identity provider connection needs attention. Contact your administrator; password sign-in stays off.', { ...frame, organization: organizationName(org) }), EMAIL_PAGE_CSP);
      return html(reply, 400, emailPage(params, 'Single sign-on is not set up for this email address. Use another sign-in method.', frame), EMAIL_PAGE_CSP);
    }
    const user = gh.users.byEmail(email).find((u) => u.namespace === ref.org.namespace);
    if (user && !user.active) {
      // The address was typed, not asserted by an IdP: the entry carries no email.
      recordRefusal(gh.activity, ref, 'USER_INACTIVE', 'refused');
      return refusalReply(reply, 'USER_INACTIVE', 'Sign-in refused', pageFrame(gh, ref.org, { clientId: client.client_id, redirectUri: q.redirect_uri }));
    }
    return startLogin(gh, req, reply, ref, { ...flow, loginHint: email });
  });

  // Token and userinfo answer every failure in JSON, as OAuth clients expect (RFC 6749 §5.2).
  await app.register(async (api) => {
    api.setErrorHandler(jsonErrorHandler);
    api.post(OAUTH_PATHS.token, { schema: { body: tokenBody } }, tokenEndpoint);
    api.get(OAUTH_PATHS.userinfo, userinfoEndpoint);
    api.post(OAUTH_PATHS.userinfo, userinfoEndpoint);
  });

  async function tokenEndpoint(req: FastifyRequest, reply: FastifyReply) {
    const b = req.body as z.infer<typeof tokenBody>;
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const fail = (status: number, error: string, description: string) => {
      gh.metrics.tokens.inc({ result: error });
      req.log.info({ error, description }, 'token request refused');
      if (status === 401) reply.header('www-authenticate', BASIC_CHALLENGE);
      return reply.code(status).send({ error, error_description: description });
    };
    const auth = await authenticateClient(gh.clients, { authorization: req.headers.authorization, clientId: b.client_id, secret: b.client_secret });
    if ('error' in auth) return fail(401, auth.error, auth.description);
    const { client } = auth;
    if (b.grant_type !== 'authorization_code') return fail(400, 'unsupported_grant_type', 'only authorization_code is supported');
    if (!b.code) return fail(400, 'invalid_request', 'code is required');
    // Single use: the code is consumed before anything else is checked, so a failed attempt burns it.
    const raw = await gh.store.take(`code:${sha256b64url(b.code)}`);
    if (!raw) return fail(400, 'invalid_grant', 'the code is unknown, expired or already used');
    const grant = JSON.parse(raw) as CodeGrant;
    if (grant.clientId !== client.client_id) return fail(400, 'invalid_grant', 'the code was issued to another client');
    if (b.redirect_uri !== grant.redirectUri) return fail(400, 'invalid_grant', 'redirect_uri does not match the authorization request');
    if (!b.code_verifier) return fail(400, 'invalid_grant', 'code_verifier is required (PKCE)');
    if (!PKCE.test(b.code_verifier) || createHash('sha256').update(b.code_verifier).digest('base64url') !== grant.codeChallenge) {
      return fail(400, 'invalid_grant', 'code_verifier does not match the code_challenge');
    }
    const now = Math.floor(Date.now() / 1000);
    // A code issued before scopes were kept grants openid alone.
    const scope = grant.scope ?? 'openid';
    const claims = releasedClaims(scope, { email: grant.email, email_verified: true, org: grant.org, roles: grant.roles, ...(grant.name ? { name: grant.name } : {}) });
    const idKey = keys.forAlg(client.id_token_signed_response_alg);
    if (!idKey) throw new Error(`no ${client.id_token_signed_response_alg} key`);
    const lifetime = { iss: gh.issuer, sub: grant.sub, iat: now, exp: now + gh.lifetimes.tokenSeconds };
    const idToken = signJwt(idKey, 'JWT', { ...claims, auth_time: grant.authTime, amr: ['ext'], ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}), ...lifetime, aud: client.client_id });
    const accessToken = signJwt(keys.accessTokens, 'at+jwt', { ...claims, client_id: client.client_id, scope, ...lifetime, aud: oauthURL(gh.issuer, 'userinfo'), jti: randomUUID() });
    gh.metrics.tokens.inc({ result: 'issued' });
    return reply.send({ access_token: accessToken, token_type: 'Bearer', expires_in: gh.lifetimes.tokenSeconds, id_token: idToken, scope });
  }

  async function userinfoEndpoint(req: FastifyRequest, reply: FastifyReply) {
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    const deny = (desc: string) =>
      reply.code(401).header('www-authenticate', `Bearer error="invalid_token", error_description="${desc}"`).send({ error: 'invalid_token', error_description: desc });
    if (!token) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'invalid_token' });
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer: gh.issuer, audience: oauthURL(gh.issuer, 'userinfo'), typ: 'at+jwt', algorithms: keys.all.map((k) => k.alg) });
      // A user deprovisioned since the token was issued gets nothing more.
      const user = typeof payload.sub === 'string' ? gh.users.bySubject(payload.sub) : undefined;
      if (!user || !user.active) return deny('the user is no longer active');
      // The same claims as the ID token: those the token's scope released.
      const scope = typeof payload.scope === 'string' ? payload.scope : 'openid';
      return reply.header('cache-control', 'no-store').send({ sub: payload.sub, ...releasedClaims(scope, payload) });
    } catch {
      return deny('the access token is invalid or expired');
    }
  }

  app.get(OAUTH_PATHS.discovery, async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=300').send({
      issuer: gh.issuer,
      authorization_endpoint: oauthURL(gh.issuer, 'authorize'),
      token_endpoint: oauthURL(gh.issuer, 'token'),
      userinfo_endpoint: oauthURL(gh.issuer, 'userinfo'),
      jwks_uri: oauthURL(gh.issuer, 'jwks'),
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: keys.all.map((k) => k.alg),
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: SCOPES,
      claims_supported: CLAIMS_SUPPORTED,
      authorization_response_iss_parameter_supported: true,
    }),
  );

  app.get(OAUTH_PATHS.jwks, async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(publicJwks));
};
