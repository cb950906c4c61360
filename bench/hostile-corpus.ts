// The hostile inputs bench/hostile.ts posts: SAML responses at the largest size the ACS accepts
// (and the 680 KB SignedInfo attack that it now refuses by size), SCIM PATCH bodies and filters at
// theirs. Every document is built once; the load loops replay them.
import { buildResponse, type BuiltResponse } from '../test/support/saml-fixtures.ts';
import { ACS_BODY_LIMIT_BYTES } from '../sp-server/saml/acs-body-limit.ts';
import { SAML_XML_BOUNDS } from '../xml/bounds.ts';

export interface HostileInput {
  name: string;
  /** The urlencoded form body, ready to POST. */
  body: string;
}

const form = (xml: string): string => new URLSearchParams({ SAMLResponse: Buffer.from(xml, 'utf8').toString('base64') }).toString();

/** The largest n whose document still fits the ACS body limit once base64- and form-encoded. */
function largestFitting(make: (n: number) => string, max: number): string {
  let lo = 1;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (form(make(mid)).length <= ACS_BODY_LIMIT_BYTES - 512) lo = mid;
    else hi = mid - 1;
  }
  return make(lo);
}

const insertAfter = (xml: string, marker: string, text: string): string => {
  const at = xml.indexOf(marker);
  if (at < 0) throw new Error(`corpus: no ${marker}`);
  return xml.slice(0, at + marker.length) + text + xml.slice(at + marker.length);
};
const attributes = (n: number, prefix = 'a'): string => Array.from({ length: n }, (_, i) => ` ${prefix}${i}="${i}"`).join('');

/** Namespace declarations spread over elements within the per-element and per-document bounds. */
function declarationsWithinBounds(): string {
  const perElement = SAML_XML_BOUNDS.attributesPerElement - 1;
  const elements = Math.floor((SAML_XML_BOUNDS.namespaceDeclarations - 8) / perElement);
  return Array.from({ length: elements }, (_, e) => `<x${e}:n${Array.from({ length: perElement }, (_, i) => ` xmlns:x${e}${i === 0 ? '' : `-${i}`}="urn:hostile:${e}:${i}"`).join('')}/>`).join('');
}

/**
 * The ACS corpus for one profile: `acsURL` and `audience` make the signed responses pass every
 * check up to the bloated part, so each costs the most work the validator does for its shape.
 */
export async function acsCorpus(acsURL: string, audience: string): Promise<HostileInput[]> {
  const base: BuiltResponse = await buildResponse({ inResponseTo: null, destination: acsURL, recipient: acsURL, audience });
  const { xml } = base;
  const wide = (n: number) => `<h:w xmlns:h="urn:h"${attributes(SAML_XML_BOUNDS.attributesPerElement - 2)}>${'<h:e/>'.repeat(n)}</h:w>`;
  const elementsIn = (marker: string) => (n: number) => insertAfter(xml, marker, declarationsWithinBounds() + Array.from({ length: n }, () => `<h:e xmlns:h="urn:h"${attributes(SAML_XML_BOUNDS.attributesPerElement - 2)}/>`).join(''));
  const depth = SAML_XML_BOUNDS.depth - 12;
  const nested = (n: number) => insertAfter(xml, '<saml:Subject>', Array.from({ length: n }, () => `${'<d>'.repeat(depth)}${'</d>'.repeat(depth)}`).join(''));
  // The attack as first seen: a SignedInfo carrying 16,000 namespace declarations and attributes.
  const signedInfoAttack = insertAfter(xml, '<ds:SignedInfo', Array.from({ length: 16_000 }, (_, i) => ` xmlns:n${i}="urn:n${i}" n${i}:a="${i}"`).join(''));
  // A validly signed, IdP-initiated response with as many attribute values as fit: every check and
  // both canonicalizations run before the ACS turns it into a fresh login.
  let values = 2000;
  let signed = await buildResponse({ inResponseTo: null, destination: acsURL, recipient: acsURL, audience, attributes: values });
  while (form(signed.xml).length > ACS_BODY_LIMIT_BYTES - 512) {
    values = Math.floor(values * 0.9);
    signed = await buildResponse({ inResponseTo: null, destination: acsURL, recipient: acsURL, audience, attributes: values });
  }
  return [
    { name: 'signedinfo-680k-attack', body: form(signedInfoAttack) },
    { name: 'signedinfo-stuffed-256k', body: form(largestFitting(elementsIn('<ds:SignedInfo>'), SAML_XML_BOUNDS.elements)) },
    { name: 'assertion-stuffed-256k', body: form(largestFitting(elementsIn('<saml:Subject>'), SAML_XML_BOUNDS.elements)) },
    { name: 'elements-at-bound', body: form(largestFitting((n) => insertAfter(xml, '<saml:Subject>', wide(n)), SAML_XML_BOUNDS.elements - 100)) },
    { name: 'deep-nesting-at-bound', body: form(largestFitting(nested, 400)) },
    { name: `signed-${values}-values`, body: form(signed.xml) },
  ];
}

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** A PATCH that adds `values` emails in one operation: quadratic in a naive merge. */
export function scimPatchBody(values: number): string {
  const emails = Array.from({ length: values }, (_, i) => ({ value: `hostile${i}@hostile.test`, type: 'other' }));
  return JSON.stringify({ schemas: [PATCH], Operations: [{ op: 'add', path: 'emails', value: emails }] });
}

/** The longest filter the parser accepts: or-ed comparisons up to its 4096-character limit. */
export function scimFilter(): string {
  const terms: string[] = [];
  for (let i = 0; [...terms, 'x'].join(' or ').length < 4000; i++) terms.push(`emails.value eq "h${i}@hostile.test"`);
  return terms.join(' or ');
}
