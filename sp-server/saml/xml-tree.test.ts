// The strict SAML XML parser: what it refuses (with the document bounds), and the tree it builds
// from what it accepts (normalized as XML 1.0 requires).
import { describe, expect, it } from 'vitest';
import { SAML_XML_BOUNDS } from '../../xml/bounds.ts';
import { parseXmlTree, XmlBoundError, XmlSyntaxError, type XmlElement } from './xml-tree.ts';

const parse = (xml: string) => parseXmlTree(xml, SAML_XML_BOUNDS);
const only = (el: XmlElement): XmlElement => el.childNodes.find((c): c is XmlElement => c.nodeType === 1) as XmlElement;

describe('parseXmlTree refuses', () => {
  it.each([
    ['a DOCTYPE', '<!DOCTYPE r><r/>'],
    ['an entity declaration', '<r><!ENTITY x "y"></r>'],
    ['an undeclared entity reference', '<r>&xxe;</r>'],
    ['an entity reference in an attribute', '<r a="&xxe;"/>'],
    ['an unterminated reference', '<r>&amp</r>'],
    ['a character reference to NUL', '<r>&#0;</r>'],
    ['a character reference out of range', '<r>&#x110000;</r>'],
    ['a malformed character reference', '<r>&#x;</r>'],
    ['a control character', '<r>\u0001</r>'],
    ['U+FFFE', '<r>\ufffe</r>'],
    ['a processing instruction inside the document element', '<r><?pi data?></r>'],
    ['an XML declaration not at the start', ' <?xml version="1.0"?><r/>'],
    ['a malformed XML declaration', '<?xml version="2"?><r/>'],
    ['an unbound element prefix', '<p:r/>'],
    ['an unbound attribute prefix', '<r p:a="1"/>'],
    ['a duplicate attribute', '<r a="1" a="2"/>'],
    ['a duplicate attribute by namespace', '<r xmlns:p="urn:x" xmlns:q="urn:x" p:a="1" q:a="2"/>'],
    ['an undeclared prefix (xmlns:p="")', '<r xmlns:p=""/>'],
    ['the xml prefix rebound', '<r xmlns:xml="urn:x"/>'],
    ['the xmlns prefix declared', '<r xmlns:xmlns="urn:x"/>'],
    ['a name with two colons', '<a:b:c xmlns:a="urn:a"/>'],
    ['a mismatched end tag', '<r><a></b></r>'],
    ['an end tag that only starts like the open one', '<r><a></ab></r>'],
    ['an unclosed element', '<r><a></r>'],
    ['text outside the document element', '<r/>x'],
    ['a second document element', '<r/><s/>'],
    ['no document element', '<!-- c -->'],
    ['"]]>" in text', '<r>]]></r>'],
    ['"<" in an attribute value', '<r a="<"/>'],
    ['an unquoted attribute', '<r a=1/>'],
    ['attributes without space between them', '<r a="1"b="2"/>'],
    ['"--" in a comment', '<r><!-- a -- b --></r>'],
    ['a comment ending in "-"', '<r><!-- a ---></r>'],
    ['a CDATA section outside the document element', '<![CDATA[x]]><r/>'],
    ['a name starting with a digit', '<1r/>'],
  ])('%s', (_what, xml) => {
    expect(() => parse(xml)).toThrow(XmlSyntaxError);
  });

  it('documents over the bounds, naming the bound as exceededBound does', () => {
    const attrs = Array.from({ length: SAML_XML_BOUNDS.attributesPerElement + 1 }, (_, i) => `a${i}="v"`).join(' ');
    expect(() => parse(`<r ${attrs}/>`)).toThrow(new XmlBoundError(`an element with more than ${SAML_XML_BOUNDS.attributesPerElement} attributes`));
    expect(() => parse(`<r>${'<e/>'.repeat(SAML_XML_BOUNDS.elements)}</r>`)).toThrow(new XmlBoundError(`more than ${SAML_XML_BOUNDS.elements} elements`));
    const deep = '<e>'.repeat(SAML_XML_BOUNDS.depth + 1) + '</e>'.repeat(SAML_XML_BOUNDS.depth + 1);
    expect(() => parse(deep)).toThrow(new XmlBoundError(`elements nested deeper than ${SAML_XML_BOUNDS.depth}`));
    const declaring = Array.from({ length: 20 }, (_, e) => `<d ${Array.from({ length: 30 }, (_, i) => `xmlns:p${e}x${i}="urn:x"`).join(' ')}/>`).join('');
    expect(() => parse(`<r>${declaring}</r>`)).toThrow(new XmlBoundError(`more than ${SAML_XML_BOUNDS.namespaceDeclarations} namespace declarations`));
    expect(() => parse('<e>'.repeat(SAML_XML_BOUNDS.depth) + '</e>'.repeat(SAML_XML_BOUNDS.depth))).not.toThrow();
  });
});

describe('parseXmlTree builds', () => {
  it('elements with resolved namespaces, and attributes apart from namespace declarations', () => {
    const { root, elements } = parse('<?xml version="1.0" encoding="UTF-8"?>\n<p:r xmlns:p="urn:p" xmlns="urn:d" p:a="1" b="2"><c xmlns=""/><d/></p:r>');
    expect(root).toMatchObject({ name: 'p:r', prefix: 'p', localName: 'r', namespaceURI: 'urn:p' });
    expect(root.namespaces).toEqual([{ prefix: 'p', uri: 'urn:p' }, { prefix: '', uri: 'urn:d' }]);
    expect(root.attributes.map((a) => [a.name, a.namespaceURI, a.value])).toEqual([['p:a', 'urn:p', '1'], ['b', null, '2']]);
    expect(elements.map((e) => [e.localName, e.namespaceURI])).toEqual([['r', 'urn:p'], ['c', null], ['d', 'urn:d']]);
  });

  it('text with references decoded, CDATA as text, comments dropped, line ends and attribute whitespace normalized', () => {
    const { root } = parse('\ufeff<r a="x\ty\r\nz&#10;">a&amp;&lt;&#x41;&#66;<!-- c --><![CDATA[<b>]]>\r\nc\rd</r>');
    expect(root.childNodes).toEqual([{ nodeType: 3, data: 'a&<AB<b>\nc\nd' }]);
    expect(root.attributes[0]?.value).toBe('x y z\n');
  });

  it('the attributes in canonical order, escaped, once per element', () => {
    const { root } = parse('<r xmlns:b="urn:b" xmlns:a="urn:a" z="&quot;&#9;" b:x="1" a:y="2" a="&lt;&gt;"/>');
    expect(root.canonicalAttributes).toBe(' a="&lt;>" z="&quot;&#x9;" a:y="2" b:x="1"');
  });
});
