// Exclusive c14n over the parsed tree: the spec's example, and the same bytes as xml-crypto's
// canonicalizer (which the IdP-side fixtures sign with) over every signing shape Gatehouse accepts.
import { DOMParser, type Element as DomElement } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { buildResponse, type ResponseOptions } from '../../test/support/saml-fixtures.ts';
import { SAML_XML_BOUNDS } from '../../xml/bounds.ts';
import { exclusiveC14n } from './exc-c14n.ts';
import { NS } from './uris.ts';
import { parseXmlTree, type XmlElement } from './xml-tree.ts';

const parse = (xml: string) => parseXmlTree(xml, SAML_XML_BOUNDS);
const elementChildren = (el: XmlElement): XmlElement[] => el.childNodes.filter((c): c is XmlElement => c.nodeType === 1);

describe('exclusive c14n', () => {
  it('renders the example of the exclusive c14n recommendation (§2.2)', () => {
    const { root } = parse('<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>');
    const elem2 = elementChildren(root)[0] as XmlElement;
    expect(exclusiveC14n.canonicalize(elem2, { inclusivePrefixes: [] })).toBe('<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>');
    // Named in an InclusiveNamespaces PrefixList, a prefix in scope is rendered where it is not used.
    expect(exclusiveC14n.canonicalize(elem2, { inclusivePrefixes: ['n0'] })).toBe('<n1:elem2 xmlns:n0="foo:bar" xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>');
  });

  it('renders a default namespace where it changes, xmlns="" included, and escapes text and attributes', () => {
    const { root } = parse('<r xmlns="urn:d"><a xmlns="" v="&quot;&#13;&#10;&#9;&lt;&amp;>"><b xmlns="urn:d">&lt;&amp;&gt;&#13;"\'</b></a><c/></r>');
    expect(exclusiveC14n.canonicalize(root, { inclusivePrefixes: [] })).toBe(
      '<r xmlns="urn:d"><a xmlns="" v="&quot;&#xD;&#xA;&#x9;&lt;&amp;>"><b xmlns="urn:d">&lt;&amp;&gt;&#xD;"\'</b></a><c></c></r>',
    );
  });

  it('leaves the excluded element out with its subtree', () => {
    const { root } = parse('<r><s><t/></s>x<u/></r>');
    expect(exclusiveC14n.canonicalize(root, { inclusivePrefixes: [], excluded: elementChildren(root)[0] as XmlElement })).toBe('<r>x<u></u></r>');
  });

  const shapes: Record<string, ResponseOptions> = {
    'response and assertion signed': { signAssertion: true, attributes: 20 },
    'Entra default namespaces': { signResponse: false, signAssertion: true, defaultNamespace: true, attributes: 8 },
    'Shibboleth InclusiveNamespaces': { signResponse: false, signAssertion: true, inclusivePrefixes: true },
    'an encrypted assertion': { encrypt: true },
  };
  it.each(Object.entries(shapes))('gives the bytes xml-crypto gives for every element of a response: %s', async (_shape, options) => {
    const { xml } = await buildResponse(options);
    const ours = parse(xml).elements;
    const theirs = Array.from(new DOMParser().parseFromString(xml, 'text/xml').getElementsByTagName('*'));
    expect(ours.length).toBe(theirs.length);
    const c14n = new ExclusiveCanonicalization();
    for (const [i, el] of ours.entries()) {
      const dom = theirs[i] as DomElement;
      const expected = c14n.process(dom as never, {});
      expect(exclusiveC14n.canonicalize(el, { inclusivePrefixes: [] }), `element #${i} ${el.name}`).toBe(expected);
    }
    // With the Shibboleth style, the assertion's digest names "xs xsi", declared on the Response only.
    const assertion = ours.find((e) => e.localName === 'Assertion' && e.namespaceURI === NS.saml);
    if (options.inclusivePrefixes === true && assertion !== undefined) {
      const withPrefixes = exclusiveC14n.canonicalize(assertion, { inclusivePrefixes: ['xs', 'xsi'] });
      expect(withPrefixes.startsWith(`<saml:Assertion xmlns:saml="${NS.saml}" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${NS.xsi}"`)).toBe(true);
    }
  });
});
