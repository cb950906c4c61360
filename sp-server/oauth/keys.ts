// The ID-token signing key: a PEM or JWK file in production, generated at start in dev mode only.
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { createPrivateKey } from 'node:crypto';

export interface SigningKey {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function finish(alg: SigningKey['alg'], privateKey: CryptoKey, jwk: JWK): Promise<SigningKey> {
  const publicJwk: JWK = jwk.kty === 'RSA' ? { kty: 'RSA', n: jwk.n, e: jwk.e } : { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y };
  const kid = await calculateJwkThumbprint(publicJwk);
  return { alg, kid, privateKey, publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

export async function loadSigningKey(path: string): Promise<SigningKey> {
  const text = readFileSync(path, 'utf8').trim();
  if (text.startsWith('{')) {
    const jwk = JSON.parse(text) as JWK;
    const alg = jwk.kty === 'RSA' ? 'RS256' : 'ES256';
    const key = await importJWK(jwk, alg);
    if (!(key instanceof Object) || key instanceof Uint8Array) throw new Error('signing JWK must be an asymmetric private key');
    return finish(alg, key as CryptoKey, jwk);
  }
  // Accept PKCS#1/SEC1 as well as PKCS#8 by normalising through node:crypto.
  const nodeKey = createPrivateKey(text);
  const pkcs8 = nodeKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const alg = nodeKey.asymmetricKeyType === 'rsa' ? 'RS256' : 'ES256';
  const key = await importPKCS8(pkcs8, alg, { extractable: true });
  return finish(alg, key, await exportJWK(key));
}

export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return finish('ES256', privateKey, await exportJWK(privateKey));
}
