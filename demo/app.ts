// The demo application ("console") that `make run` starts: an ordinary web app that signs users
// in through Gatehouse with a standard OpenID Connect client (openid-client, authorization code +
// PKCE), and keeps its own password login for users whose SSO is not enforced. It asks
// Gatehouse's login-methods API (as its OAuth client) before it shows a password box, as a real
// application would.
import { randomBytes } from 'node:crypto';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { z } from 'zod';

export interface DemoAppOptions {
  /** Gatehouse's public URL: the OIDC issuer. */
  issuer: string;
  clientId: string;
  /** Where this app listens; its callback is `${publicURL}/callback`. */
  host?: string;
  port: number;
  publicURL: string;
  /** The application's own password accounts (email → password). */
  passwords: Record<string, string>;
}

interface Session {
  email: string;
  method: 'sso' | 'password';
  claims?: Record<string, unknown>;
}

interface PendingLogin {
  verifier: string;
  state: string;
  nonce: string;
}

const loginMethods = z.object({
  methods: z.array(z.enum(['sso', 'password'])),
  ssoURL: z.string().optional(),
  ssoUnavailable: z.literal(true).optional(),
});
export type LoginMethods = z.infer<typeof loginMethods>;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>` +
  '<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;color:#1f2933}' +
  'input,button{font-size:1rem;padding:.5rem;margin:.25rem 0;width:100%;box-sizing:border-box}' +
  '.note{color:#52606d;font-size:.9rem}.err{color:#b42318}</style></head>' +
  `<body><h1>Acme Console</h1>${body}</body></html>`;

export async function buildDemoApp(options: DemoAppOptions): Promise<FastifyInstance> {
  const issuerURL = new URL(options.issuer);
  const config = await oidc.discovery(issuerURL, options.clientId, undefined, oidc.None(), {
    execute: issuerURL.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
  });
  const callback = `${options.publicURL}/callback`;
  const sessions = new Map<string, Session>();
  const pending = new Map<string, PendingLogin>();

  const app = Fastify({ logger: false });
  await app.register(formbody);

  const sessionOf = (req: FastifyRequest) => {
    const id = /(?:^|;\s*)demo_session=([a-f0-9]+)/.exec(req.headers.cookie ?? '')?.[1];
    return id ? sessions.get(id) : undefined;
  };
  const signIn = (reply: FastifyReply, session: Session) => {
    const id = randomBytes(16).toString('hex');
    sessions.set(id, session);
    return reply.header('set-cookie', `demo_session=${id}; Path=/; HttpOnly; SameSite=Lax`).redirect('/');
  };
  const methodsFor = async (email: string): Promise<LoginMethods> => {
    // A public client names itself; a confidential one would send HTTP Basic credentials instead.
    const res = await fetch(`${options.issuer}/api/v1/login-methods?${new URLSearchParams({ email, client_id: options.clientId }).toString()}`);
    if (!res.ok) throw new Error(`login-methods answered ${res.status}`);
    return loginMethods.parse(await res.json());
  };
  const startSSO = async (reply: FastifyReply, email: string | undefined) => {
    const verifier = oidc.randomPKCECodeVerifier();
    const login: PendingLogin = { verifier, state: oidc.randomState(), nonce: oidc.randomNonce() };
    pending.set(login.state, login);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: callback,
      // email for who signed in, organization for the roles shown on the home page.
      scope: 'openid email profile organization',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: login.state,
      nonce: login.nonce,
      ...(email ? { login_hint: email } : {}),
    });
    return reply.redirect(url.href);
  };

  app.get('/', async (req, reply) => {
    const session = sessionOf(req);
    reply.type('text/html');
    if (session) {
      const roles = Array.isArray(session.claims?.roles) ? (session.claims.roles as unknown[]).join(', ') : '';
      return page(
        'Signed in',
        `<p id="signed-in">Signed in as <strong id="email">${esc(session.email)}</strong> via <span id="method">${session.method === 'sso' ? 'SSO' : 'password'}</span>.</p>` +
          (roles ? `<p class="note">Roles: ${esc(roles)}</p>` : '') +
          '<form method="post" action="/logout"><button id="sign-out">Sign out</button></form>',
      );
    }
    return page(
      'Sign in',
      '<form method="post" action="/login"><label>Work email<input name="email" type="email" autocomplete="username" autofocus required></label><button id="continue">Continue</button></form>',
    );
  });

  // A page only a signed-in user may see: what "the session still works" means to the app.
  app.get('/account', async (req, reply) => {
    const session = sessionOf(req);
    reply.type('text/html');
    if (!session) return reply.code(401).send(page('Sign in', '<p class="err" id="error">Sign in first.</p><a href="/">Sign in</a>'));
    return page('Account', `<p id="account">Account of <strong id="email">${esc(session.email)}</strong>, signed in via <span id="method">${session.method === 'sso' ? 'SSO' : 'password'}</span>.</p><form method="post" action="/logout"><button id="sign-out">Sign out</button></form>`);
  });

  app.post('/login', async (req, reply) => {
    const { email } = z.object({ email: z.string().min(3).max(320) }).parse(req.body);
    const methods = await methodsFor(email);
    if (!methods.methods.includes('password')) {
      if (methods.methods.includes('sso')) return startSSO(reply, email);
      const why = methods.ssoUnavailable ? 'Single sign-on is temporarily unavailable. Try again later, or ask your administrator.' : 'This account cannot sign in. Ask your administrator.';
      return reply.type('text/html').send(page('Sign in', `<p class="err" id="error">${why}</p>`));
    }
    reply.type('text/html');
    return page(
      'Sign in',
      `<form method="post" action="/password"><input type="hidden" name="email" value="${esc(email)}">` +
        `<p>${esc(email)}</p><label>Password<input id="password" name="password" type="password" autocomplete="current-password" required></label>` +
        '<button id="sign-in">Sign in</button></form>' +
        (methods.methods.includes('sso')
          ? `<form method="get" action="/sso"><input type="hidden" name="email" value="${esc(email)}"><button id="sso">Sign in with SSO</button></form>`
          : ''),
    );
  });

  app.post('/password', async (req, reply) => {
    const { email, password } = z.object({ email: z.string(), password: z.string() }).parse(req.body);
    // Ask again: the password box may have been shown before enforcement was switched on.
    const methods = await methodsFor(email);
    const known = Object.entries(options.passwords).find(([e]) => e.toLowerCase() === email.toLowerCase());
    const passwordAllowed = methods.methods.includes('password');
    if (!passwordAllowed || !known || known[1] !== password) {
      reply.code(401).type('text/html');
      return page('Sign in', `<p class="err" id="error">${passwordAllowed ? 'Wrong email or password.' : 'Your organization requires single sign-on.'}</p><a href="/">Back</a>`);
    }
    return signIn(reply, { email: known[0], method: 'password' });
  });

  app.get('/sso', async (req, reply) => {
    const { email } = z.object({ email: z.string() }).parse(req.query);
    return startSSO(reply, email);
  });

  // OpenID Connect third-party-initiated login: Gatehouse sends the browser here when a sign-in
  // started at the IdP, so that it becomes an ordinary code + PKCE login started by the app.
  app.get('/initiate', async (req, reply) => {
    const { iss } = z.object({ iss: z.string() }).parse(req.query);
    if (iss !== config.serverMetadata().issuer) return reply.code(400).type('text/html').send(page('Sign in', '<p class="err" id="error">Unknown issuer.</p>'));
    return startSSO(reply, undefined);
  });

  app.get('/callback', async (req, reply) => {
    const url = new URL(req.url, options.publicURL);
    const login = pending.get(url.searchParams.get('state') ?? '');
    if (!login) return reply.code(400).type('text/html').send(page('Sign in', '<p class="err" id="error">Unknown or expired login.</p>'));
    pending.delete(login.state);
    const tokens = await oidc.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: login.verifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims || typeof claims.email !== 'string') throw new Error('ID token without email');
    return signIn(reply, { email: claims.email, method: 'sso', claims: { ...claims } });
  });

  app.post('/logout', async (req, reply) => {
    const id = /(?:^|;\s*)demo_session=([a-f0-9]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (id) sessions.delete(id);
    return reply.header('set-cookie', 'demo_session=; Path=/; Max-Age=0').redirect('/');
  });

  return app;
}
