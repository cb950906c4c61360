// The zod schemas and the examples agree: what the API server accepts, the operator can parse.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { managedUserKind, managedUserSpec, ssoProfileKind, ssoProfileSpec, verifiedDomainKind, verifiedDomainSpec } from './index.ts';

const examples = join(import.meta.dirname, '..', '..', 'examples');
const specs = new Map<string, z.ZodType>([
  [verifiedDomainKind.kind, verifiedDomainSpec],
  [managedUserKind.kind, managedUserSpec],
  [ssoProfileKind.kind, ssoProfileSpec],
]);

describe('zod schemas', () => {
  const docs = readdirSync(examples)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(examples, f), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: unknown }))
    .filter((d) => specs.has(d.kind));

  it.each(docs.map((d) => [`${d.kind}/${d.metadata.name}`, d] as const))('parse the example %s', (_name, doc) => {
    const result = specs.get(doc.kind)!.safeParse(doc.spec);
    expect(result.error).toBeUndefined();
  });

  it('apply the defaults the CRD declares', () => {
    expect(managedUserSpec.parse({ email: 'a@example.com' })).toEqual({ email: 'a@example.com', sso: 'Inherit', active: true });
    const profile = ssoProfileSpec.parse({ domains: ['example.com'], idp: { metadata: { url: 'https://idp.example.com/md' } } });
    expect(profile.signatureAlgorithms).not.toContain('rsa-sha1');
    expect(profile.allowedClockSkew).toBe('90s');
    expect(profile.idp?.metadata?.refreshInterval).toBe('1h');
  });

  it('refuse what the CRD refuses by pattern', () => {
    expect(verifiedDomainSpec.safeParse({ domain: 'Example.com' }).success).toBe(false);
    expect(managedUserSpec.safeParse({ email: 'nobody' }).success).toBe(false);
    expect(managedUserSpec.safeParse({ email: 'a@example.com', sso: 'Maybe' }).success).toBe(false);
  });
});
