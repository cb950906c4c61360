// openid-client's real failures, provoked by a token endpoint that answers whatever ID token a
// case needs, and the refusal code each becomes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RenderedOIDCProfile } from '../../crds/api/index.ts';
import { freePort } from '../../test/controlplane/controlplane.ts';
import { testProfile } from '../../test/support/saml-fixtures.ts';
import { refusalOfGrantError } from './errors.ts';
import { OIDCUpstreams } from './upstreams.ts';

const CLIENT = 'gatehouse-client';
const NONCE = 'the-nonce';

describe('refusalOfGrantError', () => {
  let server: Server;
  let issuer: string;
  let signingKey: CryptoKey;
  let foreignKey: CryptoKey;
  let answer: () => Promise<{ status: number; body: unknown }>;
  let profile: RenderedOIDCProfile;
  const upstreams = new OIDCUpstreams({ allowPrivate: true });

  const idToken = async (claims: Record<string, unknown>, key = signingKey) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: 'user-1', nonce: NONCE, email: 'a@acme.test', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(typeof claims.iss === 'string' ? claims.iss : issuer)
      .setAudience((claims.aud as string | string[] | undefined) ?? CLIENT)
      .setIssuedAt(typeof claims.iat === 'number' ? claims.iat : now)
      .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : now + 600)
      .sign(key);
  };
  const tokens = (claims: Record<string, unknown>, key?: CryptoKey) => async () => ({ status: 200, body: { access_token: 'at', token_type: 'Bearer', id_token: await idToken(claims, key) } });

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    signingKey = pair.privateKey;
    foreignKey = (await generateKeyPair('RS256')).privateKey;
    const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
    server = createServer((req, res) => {
      void (async () => {
        const { status, body } = req.url === '/jwks' ? { status: 200, body: jwks } : await answer();
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      })();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { idp: _idp, ...common } = testProfile();
    profile = {
      ...common,
      oidc: {
        provider: 'Generic',
        issuer,
        authorizationEndpoint: `${issuer}/auth`,
        tokenEndpoint: `${issuer}/token`,
        jwksURI: `${issuer}/jwks`,
        jwks: jwks as RenderedOIDCProfile['oidc']['jwks'],
        jwksFetchedAt: new Date().toISOString(),
        issParameterSupported: false,
        clientID: CLIENT,
        clientAuthentication: 'client_secret_basic',
        clientSecret: 'secret',
        redirectURI: 'https://gatehouse.test/oidc/acme/p/callback',
        scopes: ['openid', 'email'],
        claims: { email: 'email', displayName: 'name' },
        idTokenSigningAlgorithms: ['RS256'],
      },
    };
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function outcome(checks: { maxAge?: number } = {}, p = profile): Promise<string> {
    const config = await upstreams.configuration('acme', p);
    const callback = new URL(p.oidc.redirectURI);
    callback.searchParams.set('code', 'the-code');
    callback.searchParams.set('state', 'the-state');
    try {
      await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: 'v'.repeat(43), expectedState: 'the-state', expectedNonce: NONCE, idTokenExpected: true, ...checks });
      return 'accepted';
    } catch (err) {
      return refusalOfGrantError(err).code;
    }
  }

  it('accepts a valid ID token, and one expired by less than the allowed clock skew', async () => {
    answer = tokens({});
    expect(await outcome()).toBe('accepted');
    answer = tokens({ exp: Math.floor(Date.now() / 1000) - 30 });
    expect(await outcome()).toBe('accepted');
  });

  it('maps each failed ID token check to its code', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ aud: 'another-client' }, 'ID_TOKEN_AUDIENCE_MISMATCH'],
      [{ aud: [CLIENT, 'another-client'], azp: 'another-client' }, 'ID_TOKEN_AUDIENCE_MISMATCH'],
      [{ iss: 'https://another-issuer.test' }, 'ID_TOKEN_ISSUER_MISMATCH'],
      [{ nonce: 'another-nonce' }, 'ID_TOKEN_NONCE_MISMATCH'],
      [{ exp: now - 300, iat: now - 900 }, 'ID_TOKEN_EXPIRED'],
    ];
    for (const [claims, code] of cases) {
      answer = tokens(claims);
      expect(await outcome(), JSON.stringify(claims)).toBe(code);
    }
    answer = tokens({ aud: [CLIENT, 'another-client'], azp: CLIENT });
    expect(await outcome()).toBe('accepted');
    answer = tokens({}, foreignKey);
    expect(await outcome()).toBe('ID_TOKEN_SIGNATURE_INVALID');
    answer = tokens({ auth_time: now - 3600 });
    expect(await outcome({ maxAge: 60 })).toBe('ID_TOKEN_AUTH_TIME_TOO_OLD');
  });

  it('maps the token endpoint\'s refusals and an unreachable provider', async () => {
    answer = async () => ({ status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' } });
    expect(await outcome()).toBe('OIDC_TOKEN_EXCHANGE_FAILED');
    answer = async () => ({ status: 200, body: { access_token: 'at', token_type: 'Bearer' } });
    expect(await outcome()).toBe('OIDC_TOKEN_RESPONSE_INVALID');
    const closed = `http://127.0.0.1:${await freePort()}`;
    expect(await outcome({}, { ...profile, oidc: { ...profile.oidc, tokenEndpoint: `${closed}/token` } })).toBe('OIDC_UPSTREAM_UNREACHABLE');
  });

  it('rethrows what is not openid-client\'s', () => {
    expect(() => refusalOfGrantError(new RangeError('a bug'))).toThrow('a bug');
  });
});
