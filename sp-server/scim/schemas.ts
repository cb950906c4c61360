// SCIM resource representations (RFC 7643) and how they map onto the custom resources.
import { z } from 'zod';
import { badRequest } from './errors.ts';
import { checkValueCounts, MAX_GROUP_MEMBERS } from './limits.ts';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** Entra ID sends booleans as "True"/"False" strings. */
export const boolish = z.union([
  z.boolean(),
  z
    .string()
    .regex(/^(true|false)$/i, 'expected a boolean')
    .transform((s) => s.toLowerCase() === 'true'),
]);

const str = (max: number) => z.string().max(max);

const multiValued = z.looseObject({
  value: str(1024).optional(),
  type: str(64).optional(),
  display: str(256).optional(),
  primary: boolish.optional(),
});

export const scimUserInput = z.looseObject({
  schemas: z.array(z.string()).optional(),
  userName: z.string().trim().min(3).max(320),
  externalId: str(256).nullish(),
  displayName: str(256).nullish(),
  active: boolish.optional(),
  name: z
    .looseObject({
      formatted: str(512).optional(),
      familyName: str(256).optional(),
      givenName: str(256).optional(),
      middleName: str(256).optional(),
      honorificPrefix: str(64).optional(),
      honorificSuffix: str(64).optional(),
    })
    .optional(),
  emails: z.array(multiValued.extend({ value: str(320) })).max(10).optional(),
  phoneNumbers: z.array(multiValued).max(20).optional(),
  [ENTERPRISE_SCHEMA]: z.record(z.string(), z.unknown()).optional(),
});
export type ScimUserInput = z.infer<typeof scimUserInput>;

export const scimGroupInput = z.looseObject({
  schemas: z.array(z.string()).optional(),
  displayName: z.string().trim().min(1).max(256),
  externalId: str(256).nullish(),
  members: z
    .array(z.looseObject({ value: z.string().min(1).max(253), display: z.string().optional(), type: z.string().optional() }))
    .max(MAX_GROUP_MEMBERS)
    .optional(),
});
export type ScimGroupInput = z.infer<typeof scimGroupInput>;

const USER_ATTRIBUTES = [
  'schemas', 'id', 'externalId', 'meta', 'userName', 'name', 'displayName', 'nickName', 'profileUrl', 'title', 'userType',
  'preferredLanguage', 'locale', 'timezone', 'active', 'password', 'emails', 'phoneNumbers', 'ims', 'photos', 'addresses',
  'groups', 'entitlements', 'roles', 'x509Certificates', ENTERPRISE_SCHEMA,
];
const GROUP_ATTRIBUTES = ['schemas', 'id', 'externalId', 'meta', 'displayName', 'members'];

/** Lower-cased attribute name → canonical spelling, built once per attribute list rather than per request. */
const canonicalSpellings = new WeakMap<readonly string[], ReadonlyMap<string, string>>();

/** SCIM attribute names are case-insensitive: rename top-level keys to their canonical spelling. */
export function canonicalKeys(input: unknown, known: readonly string[]): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw badRequest('invalidSyntax', 'the request body must be a JSON object');
  let byLower = canonicalSpellings.get(known);
  if (!byLower) canonicalSpellings.set(known, (byLower = new Map(known.map((k) => [k.toLowerCase(), k]))));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) out[byLower.get(k.toLowerCase()) ?? k] = v;
  return out;
}

export function parseUserInput(body: unknown): ScimUserInput {
  const input = canonicalKeys(body, USER_ATTRIBUTES);
  checkValueCounts(input);
  const res = scimUserInput.safeParse(input);
  if (!res.success) throw badRequest('invalidValue', `invalid User: ${z.prettifyError(res.error)}`);
  return res.data;
}

export function parseGroupInput(body: unknown): ScimGroupInput {
  const input = canonicalKeys(body, GROUP_ATTRIBUTES);
  checkValueCounts(input);
  const res = scimGroupInput.safeParse(input);
  if (!res.success) throw badRequest('invalidValue', `invalid Group: ${z.prettifyError(res.error)}`);
  return res.data;
}

/** A userName is an email whose domain part is a DNS name; returns the lower-cased domain. */
export function emailDomain(userName: string): string | undefined {
  const m = /^[^@\s]+@([A-Za-z0-9.-]+)$/.exec(userName);
  const domain = m?.[1]?.toLowerCase();
  return domain && /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(domain) ? domain : undefined;
}
