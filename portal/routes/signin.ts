// Admins sign in to the portal through Gatehouse itself: the portal is an ordinary OIDC client of
// the sp-server (authorization code + PKCE + nonce). The ID token's `org` claim binds the session
// to that organization, and only members holding one of the configured admin roles get in.
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import * as oidc from 'openid-client';
import { z } from 'zod';
import { html } from '../../ui/html.ts';
import type { PortalContext, RouteOptions } from '../context.ts';
import { cookieSecure } from '../options.ts';
import { clearSessionCookie, cookieName, sameOrigin, setSessionCookie } from '../session/request-session.ts';
import { notice, publicPage, sendHTML } from '../views/frame.ts';

const SIGNIN_COOKIE = 'gatehouse-portal-signin';
const ATTEMPT_TTL_MS = 10 * 60_000;

const attempt = z.object({ verifier: z.string(), nonce: z.string(), binding: z.string() });
const signinBody = z.object({ email: z.string().trim().max(320).optional() });
const callbackQuery = z.object({ state: z.string().max(128).optional(), code: z.string().max(4096).optional(), error: z.string().max(128).optional(), error_description: z.string().max(1024).optional() });
const idClaims = z.object({
  email: z.string().max(320).optional(),
  name: z.string().max(256).optional(),
  org: z.string().max(63).optional(),
  roles: z.array(z.string().max(128)).max(256).optional(),
});

class IssuerConfiguration {
  private config: Promise<oidc.Configuration> | undefined;
  private readonly ctx: PortalContext;
  constructor(ctx: PortalContext) {
    this.ctx = ctx;
  }
  /** Discovered once; a failed discovery is retried on the next sign-in. */
  get(): Promise<oidc.Configuration> {
    const o = this.ctx.options.oidc;
    if (!o) return Promise.reject(new Error('sign-in through Gatehouse is not configured (--oidc-issuer)'));
    this.config ??= oidc.discovery(new URL(o.issuer), o.clientID, o.clientSecret, oidc.ClientSecretBasic(o.clientSecret), o.allowInsecureIssuer ? { execute: [oidc.allowInsecureRequests] } : undefined).catch((err: unknown) => {
      this.config = undefined;
      throw err;
    });
    return this.config;
  }
}

function signinForm(ctx: PortalContext, error?: string): ReturnType<typeof publicPage> {
  return publicPage(
    'Sign in to the admin portal',
    html`${error ? notice('error', error) : ''}${
      ctx.options.oidc
        ? html`<p>Administrators of an organization whose single sign-on works sign in with it.</p>
<form method="post" action="/signin"><div class="field"><label for="email">Work email</label><input id="email" name="email" type="email" autocomplete="username" required></div><button type="submit">Continue with single sign-on</button></form>`
        : html`<p>Sign-in through single sign-on is not configured for this portal.</p>`
    }<p class="hint">Setting up single sign-on for the first time? Open the setup link from your application's admin console.</p>`,
  );
}

export const signinRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const issuer = new IssuerConfiguration(ctx);
  const redirectURI = `${ctx.options.publicURL}/signin/callback`;
  const refuse = (reply: FastifyReply, status: number, message: string) => sendHTML(reply, signinForm(ctx, message), status);

  app.get('/signin', async (_req, reply) => sendHTML(reply, signinForm(ctx)));

  app.post('/signin', async (req, reply) => {
    const body = signinBody.safeParse(req.body);
    if (!body.success) return refuse(reply, 400, 'Enter your work email.');
    let config: oidc.Configuration;
    try {
      config = await issuer.get();
    } catch (err) {
      ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'portal sign-in: issuer discovery failed');
      return refuse(reply, 503, 'Single sign-on is not reachable right now. Try again in a minute.');
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    // The browser that started the sign-in must be the one finishing it (login CSRF).
    const binding = randomBytes(16).toString('base64url');
    await ctx.state.put(`signin:${state}`, JSON.stringify({ verifier, nonce, binding }), ATTEMPT_TTL_MS);
    reply.setCookie(SIGNIN_COOKIE, binding, { path: '/signin', httpOnly: true, secure: cookieSecure(ctx.options.publicURL), sameSite: 'lax', maxAge: ATTEMPT_TTL_MS / 1000 });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectURI,
      scope: 'openid email profile organization',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(body.data.email ? { login_hint: body.data.email } : {}),
    });
    // Not a redirect: Chromium applies the form's CSP form-action to every hop of a form
    // submission's redirects, and the issuer sends the browser on to the organization's IdP, an
    // origin the portal cannot know. A Refresh is a new navigation, outside form-action.
    return sendHTML(reply.header('refresh', `0;url=${url.href}`), publicPage('Continue to single sign-on', html`<p><a class="button" href="${url.href}">Continue to single sign-on</a></p>`));
  });

  app.get('/signin/callback', async (req, reply) => {
    const q = callbackQuery.safeParse(req.query);
    if (!q.success || !q.data.state) return refuse(reply, 400, 'This sign-in response is not valid. Start again.');
    const raw = await ctx.state.take(`signin:${q.data.state}`);
    const started = raw ? attempt.safeParse(JSON.parse(raw)) : undefined;
    if (!started?.success || req.cookies[SIGNIN_COOKIE] !== started.data.binding) return refuse(reply, 400, 'This sign-in was not started in this browser, or took more than 10 minutes. Start again.');
    reply.clearCookie(SIGNIN_COOKIE, { path: '/signin' });
    if (q.data.error) return refuse(reply, 403, `Single sign-on refused the sign-in (${q.data.error}${q.data.error_description ? `: ${q.data.error_description}` : ''}).`);
    let claims: z.infer<typeof idClaims>;
    try {
      const config = await issuer.get();
      const current = new URL(`${redirectURI}?${new URLSearchParams(req.query as Record<string, string>).toString()}`);
      const tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: started.data.verifier, expectedState: q.data.state, expectedNonce: started.data.nonce, idTokenExpected: true });
      claims = idClaims.parse(tokens.claims());
    } catch (err) {
      ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'portal sign-in: code exchange or ID token refused');
      return refuse(reply, 403, 'The sign-in could not be completed. Start again.');
    }
    const roles = claims.roles ?? [];
    if (!claims.org || !claims.email) return refuse(reply, 403, 'Your sign-in did not name an organization. Ask your platform team.');
    if (!roles.some((r) => ctx.options.adminRoles.includes(r))) {
      ctx.log.info({ namespace: claims.org, email: claims.email }, 'portal sign-in refused: no admin role');
      return refuse(reply, 403, `You are signed in as ${claims.email}, but you do not hold an administrator role (${ctx.options.adminRoles.join(', ')}) in your organization. Ask an administrator to grant it.`);
    }
    const session = await ctx.sessions.create(claims.org, { name: claims.email, via: 'sso', email: claims.email, ...(claims.name ? { displayName: claims.name } : {}) });
    ctx.log.info({ namespace: claims.org, email: claims.email }, 'portal sign-in');
    setSessionCookie(reply, ctx, session);
    return reply.redirect('/', 303);
  });

  app.post('/signout', async (req, reply) => {
    if (!sameOrigin(req, ctx.options.publicURL)) return reply.code(403).send({ error: 'csrf' });
    const id = req.cookies[cookieName(ctx.options.publicURL)];
    if (id) await ctx.sessions.destroy(id);
    clearSessionCookie(reply, ctx);
    return sendHTML(reply, publicPage('Signed out', html`<p>You are signed out of the admin portal.</p><p><a href="/signin">Sign in again</a></p>`));
  });
};
