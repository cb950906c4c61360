// Compact JWS (RFC 7515) signing of the ID and access tokens with node:crypto KeyObjects prepared
// once at start. Measured side by side on the same key, an ES256 signature costs about a quarter
// of jose's WebCrypto path (≈ 0.05 against 0.17–0.27 ms of CPU) and RS256 about a tenth less;
// jose still verifies every token (userinfo, tests, and the applications' OIDC libraries).
import { sign } from 'node:crypto';
import type { SigningKey } from './keys.ts';

/** The bytes of one P-256 coordinate: r and s each take this many in a JOSE ES256 signature. */
const P256_BYTES = 32;

const b64url = (json: unknown) => Buffer.from(JSON.stringify(json), 'utf8').toString('base64url');

/** `header.payload.signature` for `payload`, signed with `key` (alg and kid in the header). */
export function signJwt(key: Pick<SigningKey, 'alg' | 'kid' | 'keyObject'>, typ: string, payload: Record<string, unknown>): string {
  const input = `${b64url({ alg: key.alg, kid: key.kid, typ })}.${b64url(payload)}`;
  // A bare KeyObject: passing options ({ key, dsaEncoding }) costs node:crypto more than the signature.
  const signature = sign('sha256', Buffer.from(input, 'ascii'), key.keyObject);
  return `${input}.${(key.alg === 'ES256' ? ecdsaDerToJose(signature, P256_BYTES) : signature).toString('base64url')}`;
}

/**
 * An ECDSA signature from DER (SEQUENCE of the INTEGERs r and s, what OpenSSL returns) to JOSE's
 * fixed-width r‖s (RFC 7518 §3.4). Each INTEGER is positive, minimal, and at most one zero byte
 * longer than `size`; anything else is not a signature OpenSSL made with this curve.
 */
export function ecdsaDerToJose(der: Buffer, size: number): Buffer {
  // P-256 signatures are at most 72 bytes: every DER length here has the one-byte short form.
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) throw new Error('not a DER ECDSA signature');
  const out = Buffer.alloc(2 * size);
  let at = 2;
  for (const half of [0, 1]) {
    const length = der[at + 1] as number;
    if (der[at] !== 0x02 || length < 1 || length > size + 1 || at + 2 + length > der.length) throw new Error('not a DER ECDSA signature');
    let value = der.subarray(at + 2, at + 2 + length);
    at += 2 + length;
    if (value.length === size + 1) {
      if (value[0] !== 0) throw new Error('not a DER ECDSA signature');
      value = value.subarray(1);
    }
    value.copy(out, half * size + size - value.length);
  }
  if (at !== der.length) throw new Error('not a DER ECDSA signature');
  return out;
}
