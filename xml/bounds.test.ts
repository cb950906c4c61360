// The pre-parse bounds: real responses pass, and each bound stops a document that exceeds it,
// including the SignedInfo stuffed with namespace declarations that made c14n quadratic.
import { describe, expect, it } from 'vitest';
import { buildResponse } from '../test/support/saml-fixtures.ts';
import { exceededBound, SAML_XML_BOUNDS } from './bounds.ts';

describe('XML bounds', () => {
  it('accept real responses, with comments, CDATA, quoted ">" and "=" in values', async () => {
    const r = await buildResponse({ attributes: { groups: Array.from({ length: 150 }, (_, i) => `group-${i}`) } });
    expect(exceededBound(r.xml)).toBeUndefined();
    expect(exceededBound('<a x="1>2=3" y=\'=\'><!-- <b c=1 d=2> --><![CDATA[<e f="g">]]><h/></a>')).toBeUndefined();
  });

  it('refuse too many attributes or namespace declarations on one element', () => {
    const attrs = Array.from({ length: SAML_XML_BOUNDS.attributesPerElement + 1 }, (_, i) => `a${i}="v"`).join(' ');
    expect(exceededBound(`<r ${attrs}/>`)).toBe(`an element with more than ${SAML_XML_BOUNDS.attributesPerElement} attributes`);
    const stuffed = `<ds:SignedInfo xmlns:ds="urn:ds">${'<x xmlns:a="u" xmlns:b="u" xmlns:c="u"/>'.repeat(200)}</ds:SignedInfo>`;
    expect(exceededBound(stuffed)).toBe(`more than ${SAML_XML_BOUNDS.namespaceDeclarations} namespace declarations`);
  });

  it('refuse too many elements and too deep nesting', () => {
    expect(exceededBound(`<r>${'<e/>'.repeat(SAML_XML_BOUNDS.elements)}</r>`)).toBe(`more than ${SAML_XML_BOUNDS.elements} elements`);
    const deep = '<e>'.repeat(SAML_XML_BOUNDS.depth + 1) + '</e>'.repeat(SAML_XML_BOUNDS.depth + 1);
    expect(exceededBound(deep)).toBe(`elements nested deeper than ${SAML_XML_BOUNDS.depth}`);
    const deepButClosed = '<e></e>'.repeat(SAML_XML_BOUNDS.depth * 2);
    expect(exceededBound(`<r>${deepButClosed}</r>`)).toBeUndefined();
  });
});
