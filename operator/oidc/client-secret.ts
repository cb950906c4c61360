// The client secret of an OIDC profile: read (never written) from the organization's Secret
// gatehouse-oidc-client, the one Secret name RBAC lets the operator read besides its own. The last
// value read is kept per profile, so a Secret deleted or emptied by mistake keeps the last good
// configuration serving while ClientSecretReady says what to fix. The value never reaches status,
// Events or logs.
import { OIDC_DEFAULTS, type OIDCSpecInput } from '../../crds/api/index.ts';
import type { SecretObject } from '../context.ts';

export const OIDC_CLIENT_SECRET_NAME = OIDC_DEFAULTS.clientSecretName;

export type ClientSecretReason = 'SecretRead' | 'PrivateKeyJWT' | 'SecretNotFound' | 'SecretKeyMissing' | 'SecretEmpty';

export type ClientSecretRead =
  | { ok: true; reason: 'SecretRead'; value: string; key: string }
  | { ok: true; reason: 'PrivateKeyJWT' }
  | { ok: false; reason: Exclude<ClientSecretReason, 'SecretRead' | 'PrivateKeyJWT'>; key: string; message: string };

/** A value read before, by the data key it came from (a key change makes it not this profile's). */
export interface RememberedSecret {
  key: string;
  value: string;
  readAt: Date;
}

function createCommand(namespace: string, key: string): string {
  return `kubectl -n ${namespace} create secret generic ${OIDC_CLIENT_SECRET_NAME} --from-literal=${key}=<client secret> (or add the key to the existing Secret with kubectl -n ${namespace} edit secret ${OIDC_CLIENT_SECRET_NAME})`;
}

/** What the profile's Secret holds for it now. */
export function readClientSecret(spec: Pick<OIDCSpecInput, 'clientAuthentication' | 'clientSecretRef'>, namespace: string, secret: SecretObject | undefined): ClientSecretRead {
  if ((spec.clientAuthentication ?? OIDC_DEFAULTS.clientAuthentication) === 'private_key_jwt') return { ok: true, reason: 'PrivateKeyJWT' };
  const key = spec.clientSecretRef?.key ?? OIDC_DEFAULTS.clientSecretKey;
  if (!secret) {
    return { ok: false, reason: 'SecretNotFound', key, message: `the Secret ${namespace}/${OIDC_CLIENT_SECRET_NAME} does not exist: create it with the client secret under the key ${key}: ${createCommand(namespace, key)}` };
  }
  const raw = secret.data?.[key];
  if (raw === undefined) {
    const keys = Object.keys(secret.data ?? {}).sort();
    return {
      ok: false,
      reason: 'SecretKeyMissing',
      key,
      message: `the Secret ${namespace}/${OIDC_CLIENT_SECRET_NAME} has no key ${key} (it has ${keys.length > 0 ? keys.join(', ') : 'no keys'}): add the client secret under ${key}, or set spec.oidc.clientSecretRef.key to the key that holds it`,
    };
  }
  // A file-based secret (`--from-file`) usually ends with a newline that is not part of it.
  const value = Buffer.from(raw, 'base64').toString('utf8').replace(/\r?\n$/, '');
  if (value.trim() === '') {
    return { ok: false, reason: 'SecretEmpty', key, message: `the key ${key} of the Secret ${namespace}/${OIDC_CLIENT_SECRET_NAME} is empty: put the client secret from the provider's console there` };
  }
  return { ok: true, reason: 'SecretRead', value, key };
}
