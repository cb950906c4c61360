// Property-based fuzzing of the public HTTP surface through fastify's inject: arbitrary query
// strings, form bodies, headers and cookies at /authorize, /token, /userinfo, login-methods and the
// ACS never produce a 5xx, and every answer has its surface's shape (a page or redirect for the
// browser, a JSON error for API clients), within a per-input work bound.
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_TEST_TIMEOUT_MS, fuzzParams, withinWorkBound } from '../test/support/fuzz.ts';
import { buildResponse, toBase64 } from '../test/support/saml-fixtures.ts';
import { APP_CLIENT, startTestApp, user, type TestApp } from '../test/support/sp-app.ts';

let t: TestApp;
let signedResponse = '';

beforeAll(async () => {
  t = await startTestApp({ users: [user('acme', 'alice@acme.test'), user('acme', 'bob@acme.test', { active: false })] });
  signedResponse = (await buildResponse({ destination: `${t.base}/saml/acme/okta/acs`, recipient: `${t.base}/saml/acme/okta/acs`, audience: `${t.base}/saml/acme/okta` })).base64;
  // Warm-up: the first login and the first ACS post load code paths once; the bound is per input after that.
  const login = new URLSearchParams({ client_id: APP_CLIENT.client_id, redirect_uri: APP_CLIENT.redirect_uris[0] as string, response_type: 'code', code_challenge_method: 'S256', code_challenge: 'A'.repeat(43), login_hint: 'alice@acme.test' });
  await t.app.inject({ method: 'GET', url: `/authorize?${login.toString()}` });
  await t.app.inject({ method: 'POST', url: '/saml/acme/okta/acs', payload: { SAMLResponse: signedResponse } });
}, FUZZ_TEST_TIMEOUT_MS);
afterAll(() => t.close());

/** Strings an attacker sends: arbitrary text, percent-escapes (broken ones too), near-valid values, huge ones. */
const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '%', '%E0%A4%A', '%00', '%C0%AF', 'a%zz', '__proto__', 'constructor', 'toString', 'null', '[]', '{}', 'S256', 'code', 'none', 'login',
    'alice@acme.test', 'ALICE@ACME.TEST', 'bob@acme.test', 'x@globex.test', '@', 'a@b', '"a"@acme.test', 'a@acme.test\r\nx: y', APP_CLIENT.client_id, APP_CLIENT.redirect_uris[0] as string,
    'A'.repeat(43), '-'.repeat(128)),
  fc.integer({ min: 200, max: 5000 }).map((n) => 'x'.repeat(n)),
);
/** Header values are limited to what HTTP carries (visible ASCII, space, tab, obs-text). */
const headerString = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 120 });
const basicCredentials = fc.tuple(hostileString, fc.boolean(), hostileString).map(([id, colon, secret]) => `Basic ${Buffer.from(`${id}${colon ? ':' : ''}${secret}`, 'utf8').toString('base64')}`);
const authorization = fc.oneof(headerString, basicCredentials, hostileString.map((v) => `Bearer ${v}`).filter((v) => /^[\x20-\xff]*$/.test(v)), fc.constant('Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'));

/** A query or form: known parameter names and arbitrary ones, repeated names included (arrays). */
function parameters(names: readonly string[]): fc.Arbitrary<Array<[string, string]>> {
  return fc.array(fc.tuple(fc.oneof(fc.constantFrom(...names), hostileString), hostileString), { maxLength: 12 });
}
const encode = (pairs: Array<[string, string]>): string => new URLSearchParams(pairs).toString();
/** A raw query string, not necessarily valid percent-encoding. */
const rawQuery = fc.oneof(parameters(['client_id']).map(encode), fc.string({ maxLength: 80 }).map((s) => s.replace(/[#\s]/g, '')));

const AUTHORIZE = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'login_hint', 'prompt', 'max_age'];
const TOKEN = ['grant_type', 'code', 'redirect_uri', 'client_id', 'client_secret', 'code_verifier'];
const ACS = ['SAMLResponse', 'RelayState'];
const CONTENT_TYPES = ['application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded; charset=utf-16', 'application/xml', ''];

async function send(opts: InjectOptions, what: string): Promise<LightMyRequestResponse> {
  const r = await withinWorkBound(() => t.app.inject(opts), what);
  if (!r.ok) throw r.error;
  expect(r.value.statusCode, `${what} answered ${r.value.statusCode}: ${r.value.body.slice(0, 300)}`).toBeLessThan(500);
  return r.value;
}

/** The browser surfaces: a page, or a redirect with a Location. */
function expectBrowserShape(res: LightMyRequestResponse): void {
  if (res.statusCode === 302 || res.statusCode === 303) expect(typeof res.headers.location).toBe('string');
  else expect(res.headers['content-type']).toMatch(/^text\/html/);
}

/** The API surfaces: JSON, with an OAuth-style error string on failure. */
function expectJsonShape(res: LightMyRequestResponse): void {
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(res.body) as { error?: unknown };
  if (res.statusCode >= 400) expect(typeof body.error).toBe('string');
}

describe('the public surface under fuzzing', () => {
  it('/authorize answers any query with a page or a redirect, never a 5xx', async () => {
    const authorizeQuery = fc.oneof(
      parameters(AUTHORIZE).map(encode),
      // Mostly valid requests with one parameter fuzzed: reaches the checks past client and redirect_uri.
      fc.tuple(fc.constantFrom(...AUTHORIZE), hostileString).map(([name, value]) => {
        const q = new URLSearchParams({ client_id: APP_CLIENT.client_id, redirect_uri: APP_CLIENT.redirect_uris[0] as string, response_type: 'code', code_challenge_method: 'S256', code_challenge: 'A'.repeat(43), login_hint: 'alice@acme.test', state: 's' });
        q.set(name, value);
        return q.toString();
      }),
      rawQuery,
    );
    await fc.assert(
      fc.asyncProperty(authorizeQuery, fc.option(headerString), async (query, cookie) => {
        const res = await send({ method: 'GET', url: `/authorize?${query}`, headers: cookie === null ? {} : { cookie } }, `/authorize?${query}`);
        expectBrowserShape(res);
      }),
      fuzzParams(200),
    );
  }, FUZZ_TEST_TIMEOUT_MS);

  it('/token answers any form and credentials with a JSON error, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(parameters(TOKEN).map(encode), fc.string({ maxLength: 100 })), fc.option(authorization), fc.constantFrom(...CONTENT_TYPES), async (payload, auth, type) => {
        const headers: Record<string, string> = type === '' ? {} : { 'content-type': type };
        if (auth !== null) headers.authorization = auth;
        const res = await send({ method: 'POST', url: '/token', headers, payload }, `/token with ${JSON.stringify({ payload, auth, type })}`);
        expectJsonShape(res);
      }),
      fuzzParams(200),
    );
  }, FUZZ_TEST_TIMEOUT_MS);

  it('/userinfo answers any Authorization header with a JSON error, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST') as fc.Arbitrary<'GET' | 'POST'>, fc.option(authorization), async (method, auth) => {
        const res = await send({ method, url: '/userinfo', headers: auth === null ? {} : { authorization: auth } }, `${method} /userinfo with ${JSON.stringify(auth)}`);
        expect(res.statusCode).toBe(401);
        expectJsonShape(res);
      }),
      fuzzParams(100),
    );
  }, FUZZ_TEST_TIMEOUT_MS);

  it('login-methods answers any query and credentials in JSON, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(parameters(['email', 'client_id', 'client_secret']).map(encode), rawQuery), fc.option(authorization), async (query, auth) => {
        const res = await send({ method: 'GET', url: `/api/v1/login-methods?${query}`, headers: auth === null ? {} : { authorization: auth } }, `login-methods?${query}`);
        expectJsonShape(res);
      }),
      fuzzParams(150),
    );
  }, FUZZ_TEST_TIMEOUT_MS);

  it('the ACS answers any form, content type and cookie with a page or a redirect, never a 5xx', async () => {
    const samlResponse = fc.oneof(
      hostileString,
      fc.base64String({ maxLength: 200 }),
      fc.string({ maxLength: 200 }).map(toBase64),
      fc.tuple(fc.nat(), fc.constantFrom('A', '+', '/', '=', '%', ' ')).map(([at, ch]) => {
        const i = at % signedResponse.length;
        return signedResponse.slice(0, i) + ch + signedResponse.slice(i + 1);
      }),
      fc.constant('signed'),
    );
    const form = fc.tuple(samlResponse, parameters(ACS)).map(([response, extra]) => encode([['SAMLResponse', response === 'signed' ? signedResponse : response], ...extra]));
    await fc.assert(
      fc.asyncProperty(fc.oneof(form, fc.string({ maxLength: 100 })), fc.constantFrom(...CONTENT_TYPES), fc.option(headerString), fc.constantFrom('acme/okta', 'acme/nope', 'x/y'), async (payload, type, cookie, profile) => {
        const headers: Record<string, string> = type === '' ? {} : { 'content-type': type };
        if (cookie !== null) headers.cookie = cookie;
        const res = await send({ method: 'POST', url: `/saml/${profile}/acs`, headers, payload }, `the ACS with ${JSON.stringify({ payload: payload.slice(0, 200), type, cookie })}`);
        expectBrowserShape(res);
      }),
      fuzzParams(150),
    );
  }, FUZZ_TEST_TIMEOUT_MS);
});
