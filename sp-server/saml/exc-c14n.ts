// Exclusive XML canonicalization without comments (https://www.w3.org/TR/xml-exc-c14n/) of an
// element of a parsed tree (xml-tree.ts), in one linear walk: namespace declarations rendered
// where visibly used (and for InclusiveNamespaces prefixes, where in scope) unless the nearest
// rendered ancestor already declares the same binding, sorted as the spec says; attributes sorted
// by namespace URI then local name (xml-tree.ts renders them once per element); text and attribute values escaped as c14n requires. An
// `excluded` element (an enveloped signature) is left out with its subtree.
import { escapeAttribute, lookupNamespace, TEXT_NODE, type NamespaceDeclaration, type XmlElement } from './xml-tree.ts';

export interface CanonicalizationOptions {
  /** The InclusiveNamespaces PrefixList of the transform; empty for plain exclusive c14n. */
  inclusivePrefixes: readonly string[];
  excluded?: XmlElement;
}

const escapeText = (s: string): string => (/[&<>\r]/.test(s) ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;') : s);

const byPrefix = (a: NamespaceDeclaration, b: NamespaceDeclaration): number => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0);

/** The canonical form of `apex` and its subtree, as the exclusive c14n transform outputs it. */
function canonicalize(apex: XmlElement, options: CanonicalizationOptions): string {
  const inclusive = options.inclusivePrefixes.filter((p) => p !== '#default' && p !== 'xml');
  // Bindings rendered by output ancestors, innermost last; prefix '' is the default namespace.
  const rendered: NamespaceDeclaration[] = [];
  const renderedURI = (prefix: string): string | undefined => {
    for (let k = rendered.length - 1; k >= 0; k--) {
      const d = rendered[k] as NamespaceDeclaration;
      if (d.prefix === prefix) return d.uri;
    }
    return undefined;
  };
  let out = '';

  // Declarations this element must render: its bindings not already rendered the same way above.
  let declarations: NamespaceDeclaration[] = [];
  const need = (prefix: string, uri: string): void => {
    if (renderedURI(prefix) === uri) return;
    for (const d of declarations) if (d.prefix === prefix) return;
    declarations.push({ prefix, uri });
  };

  const element = (el: XmlElement): void => {
    const mark = rendered.length;
    if (el.prefix === '') {
      const uri = el.namespaceURI ?? '';
      if ((renderedURI('') ?? '') !== uri) need('', uri);
    } else if (el.prefix !== 'xml') {
      need(el.prefix, el.namespaceURI ?? '');
    }
    for (const a of el.attributes) if (a.prefix !== '' && a.prefix !== 'xml') need(a.prefix, a.namespaceURI ?? '');
    if (inclusive.length > 0) {
      if (el === apex) {
        for (const p of inclusive) {
          const uri = lookupNamespace(el, p);
          if (uri !== null) need(p, uri);
        }
      } else {
        for (const d of el.namespaces) if (d.prefix !== '' && inclusive.includes(d.prefix)) need(d.prefix, d.uri);
      }
    }
    if (declarations.length === 0) {
      out += el.canonicalStartTag;
    } else {
      if (declarations.length > 1) declarations.sort(byPrefix);
      out += '<' + el.name;
      for (const d of declarations) {
        out += d.prefix === '' ? ' xmlns="' + escapeAttribute(d.uri) + '"' : ' xmlns:' + d.prefix + '="' + escapeAttribute(d.uri) + '"';
        rendered.push(d);
      }
      out += el.canonicalAttributes + '>';
      declarations = [];
    }
    for (const c of el.childNodes) {
      if (c.nodeType === TEXT_NODE) out += escapeText(c.data);
      else if (c !== options.excluded) element(c);
    }
    out += el.canonicalEndTag;
    rendered.length = mark;
  };

  element(apex);
  return out;
}

/** One object, so a test can observe whether canonicalization ran at all. */
export const exclusiveC14n = { canonicalize };
