// Exclusive XML canonicalization without comments (https://www.w3.org/TR/xml-exc-c14n/) of an
// element of a parsed tree (xml-tree.ts), in one linear walk: namespace declarations rendered
// where visibly used (and for InclusiveNamespaces prefixes, where in scope) unless the nearest
// rendered ancestor already declares the same binding, sorted as the spec says; attributes sorted
// by namespace URI then local name; text and attribute values escaped as c14n requires. Start
// tags, end tags and text that are already canonical as written are copied from the parsed text
// (the parser tells which). An `excluded` element (an enveloped signature) is left out with its
// subtree.
import { escapeAttribute } from './canonical-attributes.ts';
import { ELEMENT_NODE, lookupNamespace, type NamespaceDeclaration, type XmlElement, type XmlNode } from './xml-node.ts';

export interface CanonicalizationOptions {
  /** The InclusiveNamespaces PrefixList of the transform; empty for plain exclusive c14n. */
  inclusivePrefixes: readonly string[];
  excluded?: XmlElement;
}

const escapeText = (s: string): string => (/[&<>\r]/.test(s) ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;') : s);

const byPrefix = (a: NamespaceDeclaration, b: NamespaceDeclaration): number => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0);

/**
 * The output, built from copies of the parsed text where it is already canonical: consecutive
 * copies are joined into one slice, so a typical signed element becomes a few dozen pieces.
 */
class Output {
  private out = '';
  private runStart = -1;
  private runEnd = -1;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** Characters [from, to) of the parsed text, which are canonical as they stand. */
  copy(from: number, to: number): void {
    if (from !== this.runEnd) {
      this.flush();
      this.runStart = from;
    }
    this.runEnd = to;
  }

  write(s: string): void {
    this.flush();
    this.out += s;
  }

  result(): string {
    this.flush();
    return this.out;
  }

  private flush(): void {
    if (this.runEnd > this.runStart) this.out += this.text.slice(this.runStart, this.runEnd);
    this.runStart = this.runEnd = -1;
  }
}

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
  const out = new Output(apex.sourceText);

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
    if (declarations.length === 0 && el.canonicalStartTag) {
      // "<name attributes" as written; c14n writes no "/>".
      out.copy(el.start, el.startTagClose);
      if (el.selfClosing) out.write('>');
      else out.copy(el.startTagClose, el.startTagClose + 1);
    } else {
      if (declarations.length > 1) declarations.sort(byPrefix);
      let tag = '<' + el.name;
      for (const d of declarations) {
        tag += d.prefix === '' ? ' xmlns="' + escapeAttribute(d.uri) + '"' : ' xmlns:' + d.prefix + '="' + escapeAttribute(d.uri) + '"';
        rendered.push(d);
      }
      out.write(tag + el.canonicalAttributes + '>');
      if (declarations.length > 0) declarations = [];
    }
    const children = el.childNodes;
    for (let k = 0; k < children.length; k++) {
      const c = children[k] as XmlNode;
      if (c.nodeType === ELEMENT_NODE) {
        if (c !== options.excluded) element(c);
        continue;
      }
      // Text nodes are never adjacent, so this one is all the parsed text up to the next sibling
      // or the end tag. Each reference, CDATA section or comment there is longer in the text than
      // what it adds to `data`: when the lengths agree, the text is `data` as written. c14n then
      // writes it unchanged unless it holds ">" (no "&", "<" or carriage return can be in it).
      const from = k === 0 ? el.startTagClose + 1 : (children[k - 1] as XmlElement).end;
      const next = children[k + 1];
      const to = next === undefined ? el.endTagStart : (next as XmlElement).start;
      if (to - from === c.data.length && !c.data.includes('>')) out.copy(from, to);
      else out.write(escapeText(c.data));
    }
    if (!el.selfClosing && el.end - el.endTagStart === el.name.length + 3) out.copy(el.endTagStart, el.end);
    else out.write('</' + el.name + '>');
    while (rendered.length > mark) rendered.pop();
  };

  element(apex);
  return out.result();
}

/** One object, so a test can observe whether canonicalization ran at all. */
export const exclusiveC14n = { canonicalize };
