// Bearer-token authentication for SCIM: the rendered config carries only sha256 digests of each
// organization's token; the presented token is hashed and compared in constant time against
// every digest of *that* organization, so a token of one organization never opens another.
// The organization's Verified domains come from the same rendered config.
import { hash, timingSafeEqual } from 'node:crypto';
import type { SPConfig } from '../../crds/api/index.ts';
import type { TokenVerifier } from './plugin.ts';

export function sha256(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}

/** Constant-time check of a presented token against hex digests (no early exit across digests). */
export function tokenMatches(presented: string, digestsHex: readonly string[]): boolean {
  const digest = sha256(presented);
  let ok = false;
  for (const hex of digestsHex) {
    const expected = Buffer.from(hex, 'hex');
    if (expected.length !== digest.length) continue;
    ok = timingSafeEqual(digest, expected) || ok;
  }
  return ok;
}

/**
 * A TokenVerifier over the current rendered config. `current` is called on every request, so a
 * hot-reloaded config (a rotated token) takes effect at once.
 */
/** The organization's Verified domains as the operator rendered them: signed verifications only. */
export function verifiedDomainsFromConfig(current: () => SPConfig | undefined): (namespace: string) => ReadonlySet<string> {
  return (namespace) => new Set(current()?.organizations.find((o) => o.namespace === namespace)?.verifiedDomains ?? []);
}

export function tokenVerifierFromConfig(current: () => SPConfig | undefined): TokenVerifier {
  return async (namespace, bearerToken) => {
    const org = current()?.organizations.find((o) => o.namespace === namespace);
    return tokenMatches(bearerToken, org?.scim?.tokenSHA256 ?? []);
  };
}
