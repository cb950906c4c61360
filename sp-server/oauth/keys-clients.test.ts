import { argon2Sync, createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, jwtVerify, createLocalJWKSet, exportJWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { isConfidential, loadClientsFile, parseClients, secretMatches } from './clients.ts';
import { generateSigningKeys, loadSigningKey, loadSigningKeys } from './keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'gh-oauth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signing keys', () => {
  it.each([
    ['RSA PKCS#1 PEM', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), 'RS256'],
    ['EC SEC1 PEM', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString(), 'ES256'],
    ['EC JWK', async () => JSON.stringify(await exportJWK(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)), 'ES256'],
  ] as const)('loads a %s and publishes only its public part', async (name, make, alg) => {
    const path = join(dir, name.replace(/\W/g, '_'));
    writeFileSync(path, await make());
    const key = await loadSigningKey(path);
    expect(key.alg).toBe(alg);
    expect(key.publicJwk).not.toHaveProperty('d');
    expect(key.publicJwk.kid).toBe(key.kid);
    const jwt = await new SignJWT({ x: 1 }).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey);
    await expect(jwtVerify(jwt, createLocalJWKSet({ keys: [key.publicJwk] }))).resolves.toBeTruthy();
  });
});

describe('the signing key set', () => {
  const write = (name: string, pem: string) => {
    const path = join(dir, name);
    writeFileSync(path, pem);
    return path;
  };
  const rsa = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const ec = (curve: string) => generateKeyPairSync('ec', { namedCurve: curve }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('holds one RSA and one EC P-256 key with distinct kids; dev mode generates both', async () => {
    const keys = await loadSigningKeys([write('ec.pem', ec('P-256')), write('rsa.pem', rsa(2048))]);
    expect(keys.all.map((k) => k.alg)).toEqual(['RS256', 'ES256']);
    expect(keys.forAlg('RS256')?.kid).not.toBe(keys.forAlg('ES256')?.kid);
    expect(keys.accessTokens.alg).toBe('ES256');
    const dev = await generateSigningKeys();
    expect(dev.all.map((k) => [k.alg, k.publicJwk.kty])).toEqual([['RS256', 'RSA'], ['ES256', 'EC']]);
    // One key alone still works (an installation from before ES256): it signs access tokens too.
    expect((await loadSigningKeys([write('only-rsa.pem', rsa(2048))])).accessTokens.alg).toBe('RS256');
  });

  it('refuses two keys of one algorithm, another curve and a short RSA key', async () => {
    await expect(loadSigningKeys([write('a.pem', ec('P-256')), write('b.pem', ec('P-256'))])).rejects.toThrow(/two ES256 signing keys/);
    await expect(loadSigningKeys([write('p384.pem', ec('P-384'))])).rejects.toThrow(/RSA \(RS256\) or EC P-256 \(ES256\), not EC P-384/);
    await expect(loadSigningKeys([write('short.pem', rsa(1024))])).rejects.toThrow(/at least 2048 bits/);
  });
});

describe('clients file', () => {
  it('defaults to RS256 ID tokens and every scope, and reads the chart\'s spelling of both', () => {
    const [plain, pinned] = parseClients([
      { clientId: 'a', redirectUris: ['https://a.example/cb'] },
      { clientId: 'b', redirectUris: ['https://b.example/cb'], idTokenSignedResponseAlg: 'ES256', allowedScopes: ['openid', 'email'] },
    ]);
    expect(plain).toMatchObject({ id_token_signed_response_alg: 'RS256', allowed_scopes: ['openid', 'email', 'profile', 'organization'] });
    expect(pinned).toMatchObject({ id_token_signed_response_alg: 'ES256', allowed_scopes: ['openid', 'email'] });
    expect(() => parseClients([{ clientId: 'c', redirectUris: ['https://c.example/cb'], allowedScopes: ['email'] }])).toThrow(/must include openid/);
    expect(() => parseClients([{ clientId: 'c', redirectUris: ['https://c.example/cb'], idTokenSignedResponseAlg: 'HS256' }])).toThrow();
  });

  it('reads the chart\'s camelCase values with sha256 and argon2id secret hashes', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const tag = argon2Sync('argon2id', { message: 'console-secret', nonce: salt, parallelism: 1, tagLength: 32, memory: 1024, passes: 2 });
    const phc = `$argon2id$v=19$m=1024,t=2,p=1$${salt.toString('base64').replace(/=+$/, '')}$${tag.toString('base64').replace(/=+$/, '')}`;
    const path = join(dir, 'chart-clients.json');
    writeFileSync(
      path,
      JSON.stringify([
        { clientId: 'console', redirectUris: ['https://console.example.com/cb'], public: false, clientSecretHash: phc, idpInitiatedDefault: true, initiateLoginUri: 'https://console.example.com/sso' },
        { clientId: 'ops', redirectUris: ['https://ops.example.com/cb'], clientSecretHash: `sha256:${createHash('sha256').update('ops-secret').digest('hex')}` },
        { clientId: 'cli', redirectUris: ['http://127.0.0.1:8400/cb'], public: true },
      ]),
    );
    const [console_, ops, cli] = loadClientsFile(path);
    expect(console_).toMatchObject({ client_id: 'console', idp_initiated_default: true, initiate_login_uri: 'https://console.example.com/sso' });
    expect(await secretMatches(console_!, 'console-secret')).toBe(true);
    expect(await secretMatches(console_!, 'console-secreT')).toBe(false);
    expect(await secretMatches(ops!, 'ops-secret')).toBe(true);
    expect(isConfidential(cli!)).toBe(false);
    writeFileSync(path, JSON.stringify([{ clientId: 'x', redirectUris: ['https://x.example/cb'], public: false }]));
    expect(() => loadClientsFile(path)).toThrow(/confidential client needs/);
  });

  it('reads YAML, checks secrets by hash and refuses duplicates', async () => {
    const path = join(dir, 'clients.yaml');
    writeFileSync(
      path,
      [
        'clients:',
        '  - client_id: console',
        '    redirect_uris: [https://app.example.com/callback]',
        // sha256("s3cret")
        '    client_secret_sha256: 1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0',
        '    idp_initiated_default: true',
        '    initiate_login_uri: https://app.example.com/login/sso',
        '  - client_id: cli',
        '    redirect_uris: [http://127.0.0.1:8400/callback]',
      ].join('\n'),
    );
    const clients = loadClientsFile(path);
    expect(clients.map((c) => c.client_id)).toEqual(['console', 'cli']);
    expect(await secretMatches(clients[1]!, 'anything')).toBe(false);
    expect(await secretMatches(clients[0]!, 'wrong')).toBe(false);
    expect(await secretMatches(clients[0]!, 's3cret')).toBe(true);
    writeFileSync(path, JSON.stringify([{ client_id: 'a', redirect_uris: ['https://a.example/cb'] }, { client_id: 'a', redirect_uris: ['https://a.example/cb'] }]));
    expect(() => loadClientsFile(path)).toThrow(/duplicate/);
  });
});
