// A real, independent OpenID Provider for the tests: panva's oidc-provider (OpenID Certified) on a
// loopback port, shaped like Google Workspace (issuer at the root, an `hd` claim) or like Microsoft
// Entra ID (issuer <origin>/<tenant>/v2.0, a `tid` claim). Its login page is a one-field form the
// browser tests fill in; `login` drives it over HTTP the way a browser does. Consent is implied.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import { browserGet, browserPostForm, type CookieJar } from './login-driver.ts';

export type UpstreamShape = 'google' | 'entra' | 'generic';

export interface UpstreamAccount {
  email: string;
  /** Defaults to true. */
  email_verified?: boolean;
  name?: string;
  groups?: string[];
  /** Google: defaults to the email's domain; null leaves the claim out (a personal account). */
  hd?: string | null;
  /** Entra: defaults to the upstream's tenant. */
  tid?: string;
  preferred_username?: string;
  [claim: string]: unknown;
}

/** A client registered at the upstream (client_id, client_secret or jwks, redirect_uris, token_endpoint_auth_method, …). */
export type UpstreamClient = ClientMetadata;

export interface UpstreamOptions {
  shape: UpstreamShape;
  clients: UpstreamClient[];
  /** Entra: the tenant in the issuer path and the default `tid`. */
  tenantID?: string;
  /** Signing algorithm of the provider's key (RS256 by default). */
  signingAlg?: 'RS256' | 'ES256';
}

export const ENTRA_TEST_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

export interface OIDCUpstream {
  issuer: string;
  origin: string;
  /** Accounts by email (the login form's only field); add or change before a login. */
  accounts: Map<string, UpstreamAccount>;
  /** Replaces the signing key (a rotation): the JWKS then lists only the new key; sessions start over. */
  rotateKey(): Promise<void>;
  close(): Promise<void>;
}

async function signingKey(alg: 'RS256' | 'ES256'): Promise<Record<string, unknown>> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${Math.random().toString(36).slice(2, 10)}` };
}

export async function startOIDCUpstream(o: UpstreamOptions): Promise<OIDCUpstream> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tenant = o.tenantID ?? ENTRA_TEST_TENANT;
  const pathPrefix = o.shape === 'entra' ? `/${tenant}/v2.0` : '';
  const issuer = `${origin}${pathPrefix}`;
  const accounts = new Map<string, UpstreamAccount>();
  const alg = o.signingAlg ?? 'RS256';

  const claimsOf = (email: string): Record<string, unknown> => {
    const a = accounts.get(email) ?? { email };
    const { hd, tid, ...rest } = a;
    const domain = email.slice(email.lastIndexOf('@') + 1);
    return {
      email_verified: true,
      ...(o.shape === 'google' && hd !== null ? { hd: hd ?? domain } : {}),
      ...(o.shape === 'entra' ? { tid: tid ?? tenant, preferred_username: email } : {}),
      ...rest,
    };
  };

  const configuration: Configuration = {
    clients: o.clients.map((c) => ({ grant_types: ['authorization_code'], response_types: ['code'], ...c })),
    jwks: { keys: [await signingKey(alg)] } as Configuration['jwks'],
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: `sub-${id}`, ...claimsOf(id) }) }),
    claims: {
      openid: ['sub', 'hd', 'tid'],
      // xms_edov: Entra's "email domain owner verified", its stand-in for email_verified; only
      // accounts that set it carry it.
      email: ['email', 'email_verified', 'xms_edov'],
      profile: ['name', 'preferred_username', 'groups'],
    },
    // The ID token carries every granted claim, as Google's and Entra's do.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `${pathPrefix}/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    // Consent is implied: the grant covers what the client asked for.
    loadExistingGrant: async (ctx) => {
      const id = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      if (id) return ctx.oidc.provider.Grant.find(id);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope([...(ctx.oidc.requestParamScopes ?? new Set<string>())].join(' '));
      await grant.save();
      return grant;
    },
    cookies: { keys: ['gatehouse-test-upstream'] },
    // oidc-provider refuses to fetch from loopback (its own SSRF guard, a dispatcher it passes
    // in); a private_key_jwt client's JWKS is served by the sp-server on 127.0.0.1 here.
    fetch: (url, init) => {
      const { dispatcher: _refusesLoopback, ...options } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, options);
    },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
  };
  let provider = new Provider(issuer, configuration);
  let handle = provider.callback();

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    if (!url.startsWith(pathPrefix + '/')) {
      res.statusCode = 404;
      return res.end();
    }
    const local = url.slice(pathPrefix.length);
    const interaction = /^\/interaction\/([\w-]+)$/.exec(local.split('?')[0] ?? '');
    if (interaction) return void interact(req, res).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
    // Mounted under the issuer's path the way Express mounts it: oidc-provider reads the mount
    // point from originalUrl and builds its endpoint URLs under it.
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
    req.url = local;
    handle(req, res);
  });

  async function interact(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const login = new URLSearchParams(body).get('login')?.trim().toLowerCase() ?? '';
      await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
      return;
    }
    const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : '';
    const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in to the test provider</title></head><body>
<main><h1>Sign in</h1><form method="post" action="${pathPrefix}/interaction/${details.uid}">
<label for="login">Email</label><input id="login" name="login" type="email" value="${hint.replace(/[^\w@.+-]/g, '')}">
<button type="submit">Sign in</button></form></main></body></html>`;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(page);
  }

  return {
    issuer,
    origin,
    accounts,
    async rotateKey() {
      // oidc-provider reads its keystore at construction: a rotation is a new instance behind the same issuer.
      provider = new Provider(issuer, { ...configuration, jwks: { keys: [await signingKey(alg)] } as Configuration['jwks'] });
      handle = provider.callback();
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/**
 * Follows a login from the upstream's authorization URL to the redirect back to the relying party,
 * filling the login form with `email`: returns that redirect's Location (the callback URL).
 */
export async function loginAtUpstream(authorizationURL: string, email: string, jar: CookieJar): Promise<string> {
  let res = await browserGet(authorizationURL, jar);
  for (let hops = 0; hops < 10; hops++) {
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, res.url || authorizationURL);
      if (!next.pathname.includes('/interaction/') && !next.pathname.endsWith('/auth') && !/\/auth\//.test(next.pathname)) return next.toString();
      res = await browserGet(next, jar);
      continue;
    }
    const html = await res.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`the upstream answered ${res.status} without a login form: ${html.slice(0, 300)}`);
    res = await browserPostForm(new URL(action, res.url || authorizationURL), { login: email }, jar);
  }
  throw new Error('too many redirects at the upstream');
}
