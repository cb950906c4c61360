// Drives the sp-server's login path the way a browser does (cookies, redirects, form posts),
// with openid-client 6 playing the application. Shared by unit, integration and bench code.
import { inflateRawSync } from 'node:zlib';
import * as oidc from 'openid-client';

export class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

/** The AuthnRequest carried by an IdP redirect URL (HTTP-Redirect binding). */
export function readAuthnRequest(idpURL: string): { id: string; xml: string; url: URL } {
  const url = new URL(idpURL);
  const encoded = url.searchParams.get('SAMLRequest');
  if (!encoded) throw new Error(`no SAMLRequest in ${idpURL}`);
  const xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
  const id = /\sID="([^"]+)"/.exec(xml)?.[1];
  if (!id) throw new Error('AuthnRequest without ID');
  return { id, xml, url };
}

export interface AppClient {
  config: oidc.Configuration;
  redirectURI: string;
}

export interface ClientOptions {
  /** The client's registered id_token_signed_response_alg, which openid-client then insists on. */
  idTokenAlg?: 'RS256' | 'ES256';
  /** Verify each ID token's signature against the JWKS (openid-client's non-repudiation checks). */
  verifySignatures?: boolean;
}

export async function discoverClient(issuer: string, clientId: string, redirectURI: string, secret?: string, o: ClientOptions = {}): Promise<AppClient> {
  const metadata = { redirect_uris: [redirectURI], ...(o.idTokenAlg ? { id_token_signed_response_alg: o.idTokenAlg } : {}) };
  const config = await oidc.discovery(new URL(issuer), clientId, metadata, secret ? oidc.ClientSecretBasic(secret) : oidc.None(), {
    execute: [oidc.allowInsecureRequests, ...(o.verifySignatures ? [oidc.enableNonRepudiationChecks] : [])],
  });
  return { config, redirectURI };
}

export interface StartedLogin {
  authorizeURL: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/** Every scope whose claims the tests read (email, name, org, roles). */
export const APP_SCOPE = 'openid email profile organization';

export async function buildAuthorize(app: AppClient, loginHint?: string, scope = APP_SCOPE): Promise<StartedLogin> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const params: Record<string, string> = {
    redirect_uri: app.redirectURI,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  };
  if (loginHint) params.login_hint = loginHint;
  return { authorizeURL: oidc.buildAuthorizationUrl(app.config, params), verifier, state, nonce };
}

/** GET without following redirects, keeping cookies. */
export async function browserGet(url: string | URL, jar: CookieJar): Promise<Response> {
  const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
  jar.store(res);
  return res;
}

export async function browserPostForm(url: string | URL, form: Record<string, string>, jar: CookieJar): Promise<Response> {
  const res = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  jar.store(res);
  return res;
}

export async function redeem(app: AppClient, callbackURL: string, started: StartedLogin) {
  const tokens = await oidc.authorizationCodeGrant(app.config, new URL(callbackURL), {
    pkceCodeVerifier: started.verifier,
    expectedState: started.state,
    expectedNonce: started.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (!claims) throw new Error('no ID token');
  return { tokens, claims };
}

/** The login-methods answer as the application gets it (sp-server/login/methods.ts). */
export interface LoginMethods {
  email: string;
  methods: Array<'sso' | 'password'>;
  ssoURL?: string;
  ssoUnavailable?: true;
}

/** Asks login-methods as the application does: a public client names itself, a confidential one uses HTTP Basic. */
export function fetchLoginMethods(base: string, email: string, client: { id: string; secret?: string } = { id: 'console' }): Promise<Response> {
  const q = new URLSearchParams({ email, ...(client.secret === undefined ? { client_id: client.id } : {}) });
  const headers: Record<string, string> = client.secret === undefined ? {} : { authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}` };
  return fetch(`${base}/api/v1/login-methods?${q.toString()}`, { headers });
}

export async function loginMethodsOf(base: string, email: string, client?: { id: string; secret?: string }): Promise<LoginMethods> {
  const res = await fetchLoginMethods(base, email, client);
  if (!res.ok) throw new Error(`login-methods answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as LoginMethods;
}

export { oidc };
