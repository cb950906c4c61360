// The tree the strict parser (xml-tree.ts) builds and the validator reads: elements and text only,
// each element with where it stands in the parsed text so exclusive c14n can copy what is already
// canonical there instead of rendering it again.
import { renderAttributes } from './canonical-attributes.ts';

export const ELEMENT_NODE = 1;
export const TEXT_NODE = 3;
export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';

export interface XmlAttribute {
  /** The qualified name as written. */
  readonly name: string;
  readonly prefix: string;
  readonly localName: string;
  /** null for an unprefixed attribute. */
  readonly namespaceURI: string | null;
  readonly value: string;
}

/** A namespace declaration written on an element; prefix '' is the default namespace. */
export interface NamespaceDeclaration {
  readonly prefix: string;
  readonly uri: string;
}

export interface XmlText {
  readonly nodeType: typeof TEXT_NODE;
  readonly data: string;
}

/** An element of the tree, read-only to everything but the parser. */
export type XmlElement = Readonly<Element>;

export type XmlNode = XmlElement | XmlText;

export interface XmlTree {
  root: XmlElement;
  /** Every element in document order, the root first. */
  elements: XmlElement[];
}

/** Shared by every element without attributes, declarations or children (never written to). */
export const NONE: never[] = [];

/**
 * An element as the parser builds it: one object, its strings sliced from the parsed text, and
 * where it stands in that text (after line-end normalization). Exclusive c14n copies a start tag
 * as written only when `canonicalStartTag` says it is exactly the canonical rendering of the
 * element without namespace declarations, an end tag only when it is `</name>` itself.
 */
export class Element {
  readonly nodeType = ELEMENT_NODE;
  /** The qualified name as written. */
  readonly name: string;
  readonly prefix: string;
  readonly localName: string;
  readonly namespaceURI: string | null;
  /** Attributes other than namespace declarations, in document order. */
  readonly attributes: readonly XmlAttribute[];
  readonly namespaces: readonly NamespaceDeclaration[];
  readonly childNodes: readonly XmlNode[];
  readonly parent: XmlElement | null;
  readonly sourceText: string;
  /** The "<" of the start tag. */
  readonly start: number;
  /** The ">" that ends the start tag, or the "/" of "/>". */
  readonly startTagClose: number;
  readonly selfClosing: boolean;
  /** The start tag is `<name` + canonicalAttributes + `>` (or `/>`) as written, and declares no namespace. */
  readonly canonicalStartTag: boolean;
  /** The "<" of the end tag; -1 when self-closing. */
  endTagStart = -1;
  /** Just after the element's last character. */
  end = -1;
  private rendered: string | undefined = undefined;

  // Positional: the parser is the one caller, and an options object would be one more allocation per element.
  constructor(name: string, colon: number, namespaceURI: string | null, attributes: readonly XmlAttribute[], namespaces: readonly NamespaceDeclaration[], parent: XmlElement | null, sourceText: string, start: number, startTagClose: number, selfClosing: boolean, canonicalStartTag: boolean) {
    this.name = name;
    this.prefix = colon === -1 ? '' : name.slice(0, colon);
    this.localName = colon === -1 ? name : name.slice(colon + 1);
    this.namespaceURI = namespaceURI;
    this.attributes = attributes;
    this.namespaces = namespaces;
    this.childNodes = selfClosing ? NONE : [];
    this.parent = parent;
    this.sourceText = sourceText;
    this.start = start;
    this.startTagClose = startTagClose;
    this.selfClosing = selfClosing;
    this.canonicalStartTag = canonicalStartTag;
    if (selfClosing) this.end = startTagClose + 2;
  }

  /** The attributes as exclusive c14n renders them (sorted by namespace URI then local name, escaped), on first use; a start tag canonical as written holds them already. */
  get canonicalAttributes(): string {
    this.rendered ??= this.canonicalStartTag ? this.sourceText.slice(this.start + 1 + this.name.length, this.startTagClose) : renderAttributes(this.attributes);
    return this.rendered;
  }
}

/** The namespace `prefix` is bound to at `el` (declarations on it and its ancestors), or null. */
export function lookupNamespace(el: XmlElement | null, prefix: string): string | null {
  if (prefix === 'xml') return XML_NAMESPACE;
  for (let e = el; e !== null; e = e.parent) {
    for (const d of e.namespaces) if (d.prefix === prefix) return d.uri === '' ? null : d.uri;
  }
  return null;
}
