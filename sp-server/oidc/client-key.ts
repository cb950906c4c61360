// The profile's own key pair (sp.key, kept by the operator) as an OAuth client key: it signs the
// private_key_jwt client assertions, and its public half is the JWKS the provider registers
// (served at /oidc/<namespace>/<profile>/jwks).
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, importPKCS8, type JWK } from 'jose';

export interface ClientKey {
  /** The signing algorithm the key type implies (RS256 for the operator's RSA keys). */
  alg: 'RS256' | 'ES256';
  /** The RFC 7638 thumbprint of the public key, so a new key gets a new kid by itself. */
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

const cache = new Map<string, Promise<ClientKey>>();

/** The client key of a PEM private key; memoized by the PEM, which is all it depends on. */
export function clientKeyOf(privateKeyPem: string): Promise<ClientKey> {
  let key = cache.get(privateKeyPem);
  if (!key) {
    key = load(privateKeyPem);
    // Renewed keys replace old ones; a handful of profiles per process keeps this small.
    if (cache.size >= 1024) cache.clear();
    cache.set(privateKeyPem, key);
    key.catch(() => cache.delete(privateKeyPem));
  }
  return key;
}

async function load(privateKeyPem: string): Promise<ClientKey> {
  const privateKey = createPrivateKey(privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  const type = privateKey.asymmetricKeyType;
  let alg: ClientKey['alg'];
  if (type === 'rsa') alg = 'RS256';
  else if (type === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') alg = 'ES256';
  else throw new Error(`the profile key is ${type ?? 'of an unknown type'}, not RSA or EC P-256`);
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { alg, kid, privateKey: await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), alg), publicJwk: { ...jwk, kid, alg, use: 'sig' } };
}
