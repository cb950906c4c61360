// Property-based check of exclusive c14n's copies of the parsed text: on generated documents, with
// every way of writing a tag, attribute, reference, CDATA section or comment, the canonical form of
// every element (with an excluded child, with InclusiveNamespaces) is the one rendered node by node
// from the tree, as the canonicalizer did before it copied anything.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParams } from '../../test/support/fuzz.ts';
import { SAML_XML_BOUNDS } from '../../xml/bounds.ts';
import { escapeAttribute, renderAttributes } from './canonical-attributes.ts';
import { exclusiveC14n } from './exc-c14n.ts';
import { lookupNamespace, parseXmlTree, TEXT_NODE, type NamespaceDeclaration, type XmlElement, type XmlTree } from './xml-tree.ts';

/** The reference: exclusive c14n rendering every tag and text from the tree, never from the parsed text. */
function reference(apex: XmlElement, inclusivePrefixes: readonly string[], excluded?: XmlElement): string {
  const inclusive = inclusivePrefixes.filter((p) => p !== '#default' && p !== 'xml');
  const rendered: NamespaceDeclaration[] = [];
  const renderedURI = (prefix: string): string | undefined => rendered.findLast((d) => d.prefix === prefix)?.uri;
  const walk = (el: XmlElement): string => {
    const mark = rendered.length;
    const declarations: NamespaceDeclaration[] = [];
    const need = (prefix: string, uri: string): void => {
      if (renderedURI(prefix) !== uri && !declarations.some((d) => d.prefix === prefix)) declarations.push({ prefix, uri });
    };
    if (el.prefix === '') {
      if ((renderedURI('') ?? '') !== (el.namespaceURI ?? '')) need('', el.namespaceURI ?? '');
    } else if (el.prefix !== 'xml') need(el.prefix, el.namespaceURI ?? '');
    for (const a of el.attributes) if (a.prefix !== '' && a.prefix !== 'xml') need(a.prefix, a.namespaceURI ?? '');
    for (const p of inclusive) {
      const uri = el === apex ? lookupNamespace(el, p) : el.namespaces.find((d) => d.prefix === p)?.uri;
      if (uri !== undefined && uri !== null) need(p, uri);
    }
    declarations.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    let out = `<${el.name}`;
    for (const d of declarations) {
      out += d.prefix === '' ? ` xmlns="${escapeAttribute(d.uri)}"` : ` xmlns:${d.prefix}="${escapeAttribute(d.uri)}"`;
      rendered.push(d);
    }
    out += `${renderAttributes(el.attributes)}>`;
    for (const c of el.childNodes) {
      if (c.nodeType === TEXT_NODE) out += c.data.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
      else if (c !== excluded) out += walk(c);
    }
    rendered.length = mark;
    return `${out}</${el.name}>`;
  };
  return walk(apex);
}

// --- documents ---------------------------------------------------------------------------------

const BINDINGS = { a: ['urn:a', 'urn:a2'], b: ['urn:b'], '': ['urn:d', ''] } as const;
type Prefix = keyof typeof BINDINGS;

const space = fc.constantFrom(' ', ' ', ' ', '  ', '\n', '\t', '\r\n');
const maybeSpace = fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: space });
const textPiece = fc.constantFrom('x', 'text ', '>', 'a>b', '&amp;', '&lt;', '&gt;', '&quot;', '&#13;', '&#xD;', '&#65;', '&#xE9;', 'é', '\r\n', '\n', '\t', ' ', '<![CDATA[c<&>]]>', '<![CDATA[]]>', '<!-- note -->', '"\'');
const valuePiece = fc.constantFrom('v', 'urn:x', ' ', '>', '&amp;', '&lt;', '&quot;', '&#9;', '&#10;', '&#13;', '\t', '\n', '\r\n', 'é', "'");

interface Scope {
  /** The prefixes declared so far on the path from the root ('' when a default namespace is). */
  declared: ReadonlySet<Prefix>;
}

const declarationsArb = fc.subarray(Object.keys(BINDINGS) as Prefix[]).chain((prefixes) =>
  fc.tuple(...prefixes.map((p) => fc.constantFrom(...BINDINGS[p]).map((uri) => ({ prefix: p, uri })))),
);

const quoted = (value: string[], quote: '"' | "'"): string => quote + value.map((v) => (v === quote ? (quote === '"' ? '&quot;' : '&apos;') : v)).join('') + quote;

function elementArb(scope: Scope, depth: number): fc.Arbitrary<string> {
  return declarationsArb.chain((declarations) => {
    const declared = new Set(scope.declared);
    for (const d of declarations) if (d.uri !== '' || d.prefix === '') declared.add(d.prefix);
    const prefixes = [...declared].filter((p) => p !== '');
    const names = [...prefixes.map((p) => `${p}:e`), 'e', 'f'];
    const attrNames = ['x', 'y', 'z', 'xml:lang', ...prefixes.flatMap((p) => [`${p}:x`, `${p}:w`])];
    const attributes = fc.uniqueArray(fc.tuple(fc.constantFrom(...attrNames), fc.array(valuePiece, { maxLength: 3 }), fc.constantFrom<'"' | "'">('"', '"', "'"), maybeSpace, maybeSpace), {
      maxLength: 4,
      selector: ([name]) => name,
    });
    const children = depth >= 4 ? fc.constant<string[]>([]) : fc.array(fc.oneof(fc.array(textPiece, { minLength: 1, maxLength: 3 }).map((t) => t.join('')), elementArb({ declared }, depth + 1)), { maxLength: 4 });
    return fc.tuple(fc.constantFrom(...names), attributes, children, space, maybeSpace, fc.boolean()).map(([name, attrs, kids, sep, end, selfClose]) => {
      const written = [
        ...declarations.map((d) => `${d.prefix === '' ? 'xmlns' : `xmlns:${d.prefix}`}="${d.uri}"`),
        ...attrs.map(([n, v, q, before, after]) => `${n}${before}=${after}${quoted(v, q)}`),
      ];
      const start = `<${name}${written.map((w) => sep + w).join('')}${end}`;
      return selfClose && kids.length === 0 ? `${start}/>` : `${start}>${kids.join('')}</${name}${end}>`;
    });
  });
}

const documentArb = elementArb({ declared: new Set() }, 0);

function parsed(xml: string): XmlTree | undefined {
  try {
    return parseXmlTree(xml, SAML_XML_BOUNDS);
  } catch {
    // Duplicate attributes by namespace, an undeclared default on a prefixed name: not every draw is well-formed.
    return undefined;
  }
}

describe('exclusive c14n over generated documents', () => {
  it('most generated documents parse (the property below is not vacuous)', () => {
    const samples = fc.sample(documentArb, { numRuns: 200, seed: 1 });
    expect(samples.filter((xml) => parsed(xml) !== undefined).length).toBeGreaterThan(150);
  });

  it('copies from the parsed text exactly what rendering the tree gives, for every element', () => {
    fc.assert(
      fc.property(documentArb, fc.nat(), (xml, pick) => {
        const tree = parsed(xml);
        if (tree === undefined) return;
        for (const el of tree.elements) {
          const kids = el.childNodes.filter((c): c is XmlElement => c.nodeType === 1);
          const excluded = kids[pick % (kids.length + 1)];
          expect(exclusiveC14n.canonicalize(el, { inclusivePrefixes: [] }), xml).toBe(reference(el, []));
          expect(exclusiveC14n.canonicalize(el, { inclusivePrefixes: ['a', '#default'], excluded }), xml).toBe(reference(el, ['a', '#default'], excluded));
          if (el.canonicalStartTag) {
            expect(el.namespaces, xml).toHaveLength(0);
            expect(el.sourceText.slice(el.start, el.startTagClose), xml).toBe(`<${el.name}${renderAttributes(el.attributes)}`);
          }
          expect(el.canonicalAttributes, xml).toBe(renderAttributes(el.attributes));
        }
      }),
      fuzzParams(400),
    );
  });
});
