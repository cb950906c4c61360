// The ID-token signing keys: an RSA key (RS256) and an EC P-256 key (ES256), read from PEM or JWK
// files in production, generated at start in dev mode only. Each client chooses one algorithm.
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** The ID-token algorithms Gatehouse offers; RS256 because OpenID Connect Discovery requires it. */
export const ID_TOKEN_ALGS = ['RS256', 'ES256'] as const;
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];

export interface SigningKey {
  alg: IdTokenAlg;
  kid: string;
  privateKey: CryptoKey;
  /** The same private key for node:crypto, prepared once: what /token signs with (jwt-sign.ts). */
  keyObject: KeyObject;
  publicJwk: JWK;
}

export interface SigningKeys {
  /** Every loaded key, one per algorithm: what JWKS and discovery publish. */
  readonly all: readonly SigningKey[];
  forAlg(alg: IdTokenAlg): SigningKey | undefined;
  /** Access tokens are read only by this server's userinfo: the cheaper key signs them. */
  readonly accessTokens: SigningKey;
}

const MIN_RSA_BITS = 2048;

/** `jwk` is the private key: node:crypto's KeyObject is built from it. */
async function finish(alg: IdTokenAlg, privateKey: CryptoKey, jwk: JWK): Promise<SigningKey> {
  const publicJwk: JWK = jwk.kty === 'RSA' ? { kty: 'RSA', n: jwk.n, e: jwk.e } : { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y };
  const kid = await calculateJwkThumbprint(publicJwk);
  return { alg, kid, privateKey, keyObject: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }), publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

/** The algorithm a key signs with; anything but RSA ≥ 2048 bits or EC P-256 is refused. */
function algOf(jwk: JWK, path: string): IdTokenAlg {
  if (jwk.kty === 'RSA') {
    const bits = Buffer.from(jwk.n ?? '', 'base64url').length * 8;
    if (bits < MIN_RSA_BITS) throw new Error(`${path}: an RSA signing key needs at least ${MIN_RSA_BITS} bits, this one has ${bits}`);
    return 'RS256';
  }
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new Error(`${path}: a signing key must be RSA (RS256) or EC P-256 (ES256), not ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''}`);
}

export async function loadSigningKey(path: string): Promise<SigningKey> {
  const text = readFileSync(path, 'utf8').trim();
  if (text.startsWith('{')) {
    const jwk = JSON.parse(text) as JWK;
    const alg = algOf(jwk, path);
    const key = await importJWK(jwk, alg);
    if (key instanceof Uint8Array || (key as CryptoKey).type !== 'private') throw new Error(`${path}: the signing JWK must be a private key`);
    return finish(alg, key as CryptoKey, jwk);
  }
  // Accept PKCS#1/SEC1 as well as PKCS#8 by normalising through node:crypto.
  const nodeKey = createPrivateKey(text);
  const alg = algOf(nodeKey.export({ format: 'jwk' }) as JWK, path);
  const pkcs8 = nodeKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = await importPKCS8(pkcs8, alg, { extractable: true });
  return finish(alg, key, await exportJWK(key));
}

/** One key per algorithm; at least one. */
export function signingKeys(keys: readonly SigningKey[]): SigningKeys {
  const byAlg = new Map<IdTokenAlg, SigningKey>();
  for (const k of keys) {
    if (byAlg.has(k.alg)) throw new Error(`two ${k.alg} signing keys: give one RSA key and one EC P-256 key`);
    byAlg.set(k.alg, k);
  }
  const accessTokens = byAlg.get('ES256') ?? byAlg.get('RS256');
  if (!accessTokens) throw new Error('no ID-token signing key');
  return { all: ID_TOKEN_ALGS.flatMap((alg) => byAlg.get(alg) ?? []), forAlg: (alg) => byAlg.get(alg), accessTokens };
}

export async function loadSigningKeys(paths: readonly string[]): Promise<SigningKeys> {
  return signingKeys(await Promise.all(paths.map(loadSigningKey)));
}

/** Dev mode and tests: both keys, fresh. */
export async function generateSigningKeys(): Promise<SigningKeys> {
  const ec = await generateKeyPair('ES256', { extractable: true });
  const rsa = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  return signingKeys([await finish('ES256', ec.privateKey, await exportJWK(ec.privateKey)), await finish('RS256', rsa.privateKey, await exportJWK(rsa.privateKey))]);
}
