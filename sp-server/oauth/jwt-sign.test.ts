// Tokens signed through node:crypto are ordinary JWS: jose verifies each one (every shape of
// ECDSA signature among hundreds, short r and s included), and a malformed DER signature is refused.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateSigningKeys } from './keys.ts';
import { ecdsaDerToJose, signJwt } from './jwt-sign.ts';

describe('signJwt', async () => {
  const keys = await generateSigningKeys();
  const jwks = createLocalJWKSet({ keys: keys.all.map((k) => k.publicJwk) });

  it.each(['RS256', 'ES256'] as const)('signs %s tokens that jose verifies, alg and kid in the header', async (alg) => {
    const key = keys.forAlg(alg)!;
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(key, 'at+jwt', { iss: 'https://gatehouse.test', sub: 'uid-1', aud: 'console', iat: now, exp: now + 60, email: 'ä@acme.test' });
    expect(decodeProtectedHeader(token)).toEqual({ alg, kid: key.kid, typ: 'at+jwt' });
    const { payload } = await jwtVerify(token, jwks, { issuer: 'https://gatehouse.test', audience: 'console', algorithms: [alg], typ: 'at+jwt' });
    expect(payload.email).toBe('ä@acme.test');
  });

  it('turns every ES256 signature into one jose accepts (r or s with leading zeros included)', async () => {
    const key = keys.forAlg('ES256')!;
    // About one signature in 128 has an r or s shorter than 32 bytes: 1,000 make such a case all but certain.
    const tokens = Array.from({ length: 1000 }, (_, i) => signJwt(key, 'JWT', { i }));
    const results = await Promise.all(tokens.map((t) => jwtVerify(t, jwks, { algorithms: ['ES256'] }).then(() => true, () => false)));
    expect(results.every(Boolean)).toBe(true);
  });
});

describe('ecdsaDerToJose', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = sign('sha256', Buffer.from('x'), ec.privateKey);

  it('puts r and s where node:crypto\'s IEEE P1363 verification finds them', () => {
    const data = Buffer.from('the same input');
    const converted = ecdsaDerToJose(sign('sha256', data, ec.privateKey), 32);
    expect(converted).toHaveLength(64);
    expect(verify('sha256', data, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, converted)).toBe(true);
  });

  it.each([
    ['not a SEQUENCE', () => Buffer.concat([Buffer.from([0x31]), der.subarray(1)])],
    ['a wrong length', () => Buffer.concat([der, Buffer.from([0])])],
    ['an INTEGER too long', () => Buffer.from([0x30, 0x26, 0x02, 0x22, 1, ...Buffer.alloc(33, 1), 0x02, 0x01, 1])],
    ['an INTEGER that is not a minimal positive one', () => Buffer.from([0x30, 0x27, 0x02, 0x21, 1, ...Buffer.alloc(32, 1), 0x02, 0x02, 0, 1])],
    ['trailing bytes inside the SEQUENCE', () => Buffer.from([0x30, 0x08, 0x02, 0x01, 1, 0x02, 0x01, 1, 0, 0])],
  ])('refuses %s', (_name, bad) => {
    expect(() => ecdsaDerToJose(bad(), 32)).toThrow('not a DER ECDSA signature');
  });

});
