// The bounds on what one SCIM request may ask of the shared sp-server, in one place: the PATCH
// engine and the plugin enforce them, ServiceProviderConfig advertises them (RFC 7643 §5).
import { badRequest, type ScimError } from './errors.ts';

/** Operations in one PATCH request. */
export const MAX_PATCH_OPERATIONS = 100;
/** Members of one group, after any write (the ManagedGroup CRD admits more; SCIM stops here). */
export const MAX_GROUP_MEMBERS = 5000;
/** Values of any other multi-valued attribute (emails, roles, phoneNumbers…) after a write. */
export const MAX_ATTRIBUTE_VALUES = 50;
/** Request body of any SCIM call; a larger one is refused with 413 before it is parsed. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Resources in one list response (count is capped at this). */
export const MAX_RESULTS = 1000;

/** The limit for a multi-valued attribute by its (case-insensitive) name. */
export function maxValuesOf(attribute: string): number {
  return attribute.toLowerCase() === 'members' ? MAX_GROUP_MEMBERS : MAX_ATTRIBUTE_VALUES;
}

export function tooMany(detail: string): ScimError {
  return badRequest('tooMany', detail);
}

/** Refuses a resource whose multi-valued attributes (top level or in an extension) exceed their limits. */
export function checkValueCounts(resource: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(resource)) {
    if (Array.isArray(value)) {
      const limit = maxValuesOf(key);
      if (value.length > limit) throw tooMany(`'${key}' may hold at most ${limit} values (got ${value.length})`);
    } else if (value !== null && typeof value === 'object' && /^urn:/i.test(key)) {
      checkValueCounts(value as Record<string, unknown>);
    }
  }
}
