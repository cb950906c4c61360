// The labels that make SCIM lookups selective on the API server (label selectors are evaluated
// in the apiserver's watch cache, so `userName eq` on a 10k-user organization never ships every
// user to the sp-server). Values are hashes: emails and external IDs are not valid label values.
import { hash } from 'node:crypto';

export const LABEL_PREFIX = 'sso.gatehouse.dev/';
/** Present on every object SCIM wrote; objects without it (kubectl-created) are scanned. */
export const INDEXED_LABEL = `${LABEL_PREFIX}scim-indexed`;
/** Key prefix of one label per email address of a user (userName and emails[].value). */
export const EMAIL_LABEL_PREFIX = `${LABEL_PREFIX}email-`;
export const EXTERNAL_ID_LABEL = `${LABEL_PREFIX}external-id-hash`;
export const DISPLAY_NAME_LABEL = `${LABEL_PREFIX}display-name-hash`;

export const EXTERNAL_ID_ANNOTATION = `${LABEL_PREFIX}scim-external-id`;
export const ATTRIBUTES_ANNOTATION = `${LABEL_PREFIX}scim-attributes`;
export const LAST_MODIFIED_ANNOTATION = `${LABEL_PREFIX}scim-last-modified`;

/** One-shot hashing: a SCIM write hashes several addresses, and a Hash object per call costs twice as much. */
export function sha256Hex(s: string): string {
  return hash('sha256', s, 'hex');
}

/** Email label key: name part `email-` + 50 hex digits fits the 63-character limit. */
export function emailLabelKey(email: string): string {
  return EMAIL_LABEL_PREFIX + sha256Hex(email.trim().toLowerCase()).slice(0, 50);
}

/** Case-sensitive hash for caseExact attributes (externalId); case-insensitive for displayName. */
export function valueHash(value: string, caseExact: boolean): string {
  return sha256Hex(caseExact ? value : value.toLowerCase()).slice(0, 56);
}

/** Drops the SCIM index labels so they can be recomputed from the new state. */
export function withoutIndexLabels(labels: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k === INDEXED_LABEL || k === EXTERNAL_ID_LABEL || k === DISPLAY_NAME_LABEL || k.startsWith(EMAIL_LABEL_PREFIX)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * A valid, deterministic DNS-1123 name for a user's email: a readable slug and a hash of the
 * lower-cased address, so two creates of one address collide on the API server (uniqueness
 * is enforced atomically) and different addresses never do.
 */
export function userNameForEmail(email: string): string {
  const lower = email.trim().toLowerCase();
  const slug = lower.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50).replace(/-+$/, '') || 'user';
  return `${slug}-${sha256Hex(lower).slice(0, 10)}`;
}

export function slugForGroup(displayName: string): string {
  return displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '') || 'group';
}
