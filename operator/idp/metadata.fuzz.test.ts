// Property-based fuzzing of IdP metadata as the operator reads it (parseIdPMetadata, then each
// certificate through parseCertificate): mutations of real metadata, random XML and arbitrary text
// either yield a descriptor or an IdPConfigError; never another exception, and within a work bound.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_TEST_TIMEOUT_MS, fuzzParams, withinWorkBound } from '../../test/support/fuzz.ts';
import { idpKeyPair, metadataXml } from '../../test/support/idp-fixtures.ts';
import { IdPConfigError, parseCertificate, parseIdPMetadata } from './metadata.ts';

let valid = '';
beforeAll(() => {
  valid = metadataXml({ certificatePem: idpKeyPair().certificatePem });
}, FUZZ_TEST_TIMEOUT_MS);

const SNIPPETS = [
  '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://evil.test"><md:IDPSSODescriptor/></md:EntityDescriptor>',
  '<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>',
  '<ds:X509Certificate>MIIB////</ds:X509Certificate>',
  '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="javascript:alert(1)"/>',
  '<!DOCTYPE x [<!ENTITY e "e">]>', '<!ENTITY e SYSTEM "file:///etc/passwd">', '&e;', '<![CDATA[x]]>', '<!-- c -->', '<?pi x?>', 'xmlns:md="urn:evil"', '\u0000', '<',
];

/** Characters replaced and snippets inserted at arbitrary positions of real metadata. */
const mutated = fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...SNIPPETS), fc.string({ maxLength: 3 })), fc.boolean()), { minLength: 1, maxLength: 4 })
  .map((edits) => (xml: string) => edits.reduce((s, [at, text, replace]) => { const i = at % s.length; return s.slice(0, i) + text + s.slice(replace ? i + text.length : i); }, xml));

const randomXml = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 10 }).map((t) => t.replace(/[&<]/g, '')),
    fc.tuple(
      fc.constantFrom('md:EntityDescriptor', 'md:EntitiesDescriptor', 'md:IDPSSODescriptor', 'md:KeyDescriptor', 'md:SingleSignOnService', 'ds:KeyInfo', 'ds:X509Data', 'ds:X509Certificate', 'x'),
      fc.array(fc.tuple(fc.constantFrom('entityID', 'use', 'Binding', 'Location', 'xmlns:md', 'xmlns:ds'), fc.constantFrom('signing', 'https://idp.test', 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', 'urn:oasis:names:tc:SAML:2.0:metadata', 'http://www.w3.org/2000/09/xmldsig#', '')), { maxLength: 3 }),
      fc.array(tie('node'), { maxLength: 4 }),
    ).map(([n, attrs, kids]) => `<${n}${[...new Map(attrs)].map(([k, v]) => ` ${k}="${v}"`).join('')}>${kids.join('')}</${n}>`),
  ),
})).node.map((body) => `<root xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">${body}</root>`);

/**
 * Large documents as a metadata URL may serve them: many entities, many certificates, deep nesting,
 * up to about 150 KB. Parsing is linear in the size (about 0.1 ms of CPU per KB), so the operator's
 * 1 MiB fetch limit costs it a fraction of a second, off the public path.
 */
const huge = fc.tuple(fc.constantFrom('entities', 'certificates', 'nesting'), fc.integer({ min: 1, max: 1000 })).map(([kind, n]) => (xml: string) => {
  if (kind === 'entities') return `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${xml.replace(/^<\?xml[^>]*\?>/, '').repeat(Math.ceil(n / 20))}</md:EntitiesDescriptor>`;
  if (kind === 'certificates') return xml.replace('<md:SingleSignOnService', `${'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'.repeat(n)}<md:SingleSignOnService`);
  return xml.replace('<md:SingleSignOnService', `${'<x>'.repeat(n)}${'</x>'.repeat(n)}<md:SingleSignOnService`);
});

async function check(xml: string): Promise<void> {
  const r = await withinWorkBound(() => parseIdPMetadata(xml).certificates.map(parseCertificate), `metadata of ${xml.length} characters`);
  if (r.ok) return;
  if (!(r.error instanceof IdPConfigError)) throw new Error(`the metadata ${JSON.stringify(xml.slice(0, 200))} threw ${String(r.error)}`, { cause: r.error });
  expect(['MetadataInvalid', 'CertificateInvalid']).toContain(r.error.reason);
}

describe('IdP metadata under fuzzing', () => {
  it('reads or refuses with IdPConfigError any mutation of real metadata', async () => {
    await fc.assert(fc.asyncProperty(mutated, (mutate) => check(mutate(valid))), fuzzParams(300));
  }, FUZZ_TEST_TIMEOUT_MS);

  it('reads or refuses with IdPConfigError random XML and arbitrary text', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(randomXml, fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 })), check), fuzzParams(300));
  }, FUZZ_TEST_TIMEOUT_MS);

  it('reads or refuses large metadata within the work bound', async () => {
    await fc.assert(fc.asyncProperty(huge, (grow) => check(grow(valid))), fuzzParams(20));
  }, FUZZ_TEST_TIMEOUT_MS);
});
