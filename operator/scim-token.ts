// SCIM tokens, the operator's side. An organization turns SCIM on by labelling its namespace
// `sso.gatehouse.dev/scim=enabled`. The operator then keeps a Secret `gatehouse-scim-token`
// (key `token`) in that namespace — creating it with a random token when absent — and renders
// only the token's sha256 into the SP config. Rotation: replace (or delete) the Secret; the next
// render drops the old digest and the old token stops working. The reconcile that creates the
// Secret is controllers/scim-token.ts; these are the names and pure helpers it shares.
import { createHash, randomBytes } from 'node:crypto';
// Types only: the shapes of client-node's objects, so tests can pass them in unchanged.
import type { V1Namespace, V1Secret } from '@kubernetes/client-node';

export const SCIM_TOKEN_SECRET_NAME = 'gatehouse-scim-token';
export const SCIM_TOKEN_KEY = 'token';
export const SCIM_ENABLED_LABEL = 'sso.gatehouse.dev/scim';
export const SCIM_ENABLED_VALUE = 'enabled';

export function scimEnabled(namespace: Pick<V1Namespace, 'metadata'>): boolean {
  return namespace.metadata?.labels?.[SCIM_ENABLED_LABEL] === SCIM_ENABLED_VALUE;
}

/** The token a Secret holds (from data, base64, or stringData), when it is a usable token. */
export function tokenOfSecret(secret: Pick<V1Secret, 'data' | 'stringData'> | undefined): string | undefined {
  const raw = secret?.data?.[SCIM_TOKEN_KEY];
  const token = raw !== undefined ? Buffer.from(raw, 'base64').toString('utf8') : secret?.stringData?.[SCIM_TOKEN_KEY];
  const trimmed = token?.trim();
  // Short tokens are refused rather than rendered: a guessable SCIM token writes users.
  return trimmed && trimmed.length >= 32 && /^[\x21-\x7e]+$/.test(trimmed) ? trimmed : undefined;
}

/** What goes into renderedOrganization.scim: undefined when SCIM is off, else the digests (possibly empty). */
export function renderScim(namespace: Pick<V1Namespace, 'metadata'>, secret: Pick<V1Secret, 'data' | 'stringData'> | undefined): { tokenSHA256: string[] } | undefined {
  if (!scimEnabled(namespace)) return undefined;
  const token = tokenOfSecret(secret);
  return { tokenSHA256: token ? [createHash('sha256').update(token, 'utf8').digest('hex')] : [] };
}

/** A new Secret with a random 256-bit token (base64url). */
export function newScimTokenSecret(namespace: string, random: (n: number) => Buffer = randomBytes): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: SCIM_TOKEN_SECRET_NAME,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'gatehouse', 'app.kubernetes.io/component': 'scim' },
      annotations: { 'sso.gatehouse.dev/rotate': 'delete or replace this Secret to rotate the SCIM token' },
    },
    data: { [SCIM_TOKEN_KEY]: Buffer.from(random(32).toString('base64url')).toString('base64') },
  };
}
