// A strict, namespace-aware XML 1.0 parser for untrusted SAML messages, building the small tree
// the validator reads and canonicalizes: elements and text only. It refuses what a SAML message
// never needs instead of processing it: any markup declaration (DOCTYPE, ENTITY…), entity
// references other than the five predefined ones and character references, processing
// instructions inside the document element, unbound prefixes, duplicate attributes, and anything
// not well-formed. Comments are dropped, as exclusive c14n without comments drops them; CDATA
// sections become text. Line ends and attribute values are normalized as XML 1.0 §2.11 and
// §3.3.3 require, so the tree is the one a signer canonicalized. The bounds on elements, depth,
// attributes and namespace declarations (xml/bounds.ts) are enforced as the parse goes: every step
// here is linear, so refusing at the first element over a bound protects as well as a pre-scan.
import type { XmlBounds } from '../../xml/bounds.ts';
import { byNamespaceThenName } from './canonical-attributes.ts';
import { Element, ELEMENT_NODE, lookupNamespace, NONE, TEXT_NODE, XML_NAMESPACE, type NamespaceDeclaration, type XmlAttribute, type XmlElement, type XmlNode, type XmlTree } from './xml-node.ts';

export { ELEMENT_NODE, lookupNamespace, TEXT_NODE, XML_NAMESPACE };
export type { NamespaceDeclaration, XmlAttribute, XmlElement, XmlNode, XmlText, XmlTree } from './xml-node.ts';

const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

export class XmlSyntaxError extends Error {}

/** The document exceeds one of the bounds; the message names it as exceededBound does. */
export class XmlBoundError extends Error {}

// Chars XML 1.0 forbids; decoding UTF-8 into a JS string never yields a lone surrogate.
const FORBIDDEN_CHARACTER = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const XML_DECLARATION = /<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(["'])1\.[0-9]+\1([ \t\n]+encoding[ \t\n]*=[ \t\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\3)?([ \t\n]+standalone[ \t\n]*=[ \t\n]*(["'])(?:yes|no)\5)?[ \t\n]*\?>/y;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;

function isNameStart(c: number): boolean {
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
  return (
    (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff) || (c >= 0x370 && c <= 0x37d) || (c >= 0x37f && c <= 0x1fff) ||
    (c >= 0x200c && c <= 0x200d) || (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef) || (c >= 0x3001 && c <= 0xd7ff) ||
    (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd) || (c >= 0x10000 && c <= 0xeffff)
  );
}

function isNameChar(c: number): boolean {
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x3a || c === 0x2d || c === 0x2e;
  return isNameStart(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) || (c >= 0x203f && c <= 0x2040);
}

const isChar = (c: number): boolean => c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);

/** Parses `input`, or throws XmlSyntaxError (not well-formed, or refused) or XmlBoundError. */
export function parseXmlTree(input: string, bounds: XmlBounds): XmlTree {
  return new Parser(input.includes('\r') ? input.replace(/\r\n?/g, '\n') : input, bounds).document();
}

/** In an attribute value as written: what needs normalizing, decoding or refusing, or what c14n would escape. */
const VALUE_SPECIALS = /[<&\n\t"]/;

class Parser {
  private i = 0;
  private readonly stack: Element[] = [];
  private readonly elements: Element[] = [];
  private root: Element | null = null;
  private pendingText = '';

  private readonly xml: string;
  private readonly bounds: XmlBounds;
  private namespaceDeclarations = 0;
  /** The attributes of the start tag being read, names and values as written (reused from tag to tag). */
  private readonly attrNames: string[] = [];
  private readonly attrValues: string[] = [];
  /** Set by name(): the offset of the name's first colon, -1 without one. */
  private colon = -1;

  constructor(xml: string, bounds: XmlBounds) {
    this.xml = xml;
    this.bounds = bounds;
  }

  private error(message: string): never {
    throw new XmlSyntaxError(`${message} (at character ${this.i})`);
  }

  document(): XmlTree {
    const xml = this.xml;
    if (FORBIDDEN_CHARACTER.test(xml)) this.error('a character XML does not allow');
    if (xml.charCodeAt(0) === 0xfeff) this.i = 1;
    if (xml.startsWith('<?xml', this.i) && isSpace(xml.charCodeAt(this.i + 5))) {
      XML_DECLARATION.lastIndex = this.i;
      if (!XML_DECLARATION.test(xml)) this.error('a malformed XML declaration');
      this.i = XML_DECLARATION.lastIndex;
    }
    while (this.i < xml.length) {
      const lt = xml.indexOf('<', this.i);
      const end = lt === -1 ? xml.length : lt;
      if (end > this.i) this.text(end);
      if (lt === -1) break;
      this.i = lt;
      const next = xml.charCodeAt(lt + 1);
      if (next === 0x2f) this.endTag();
      else if (next === 0x21) this.commentOrCData();
      else if (next === 0x3f) this.processingInstruction();
      else this.startTag();
    }
    if (this.stack.length > 0) this.error(`the element ${this.stack[this.stack.length - 1]?.name} is not closed`);
    if (this.root === null) this.error('no document element');
    return { root: this.root, elements: this.elements };
  }

  private text(end: number): void {
    const raw = this.xml.slice(this.i, end);
    if (this.stack.length === 0) {
      for (let k = 0; k < raw.length; k++) if (!isSpace(raw.charCodeAt(k))) this.error('text outside the document element');
    } else {
      if (raw.includes(']]>')) this.error('"]]>" in text');
      this.pendingText += raw.includes('&') ? this.decodeReferences(raw) : raw;
    }
    this.i = end;
  }

  private flushText(): void {
    if (this.pendingText === '') return;
    ((this.stack[this.stack.length - 1] as Element).childNodes as XmlNode[]).push({ nodeType: TEXT_NODE, data: this.pendingText });
    this.pendingText = '';
  }

  private decodeReferences(raw: string): string {
    let out = '';
    let from = 0;
    for (let amp = raw.indexOf('&'); amp !== -1; amp = raw.indexOf('&', from)) {
      const semi = raw.indexOf(';', amp);
      if (semi === -1) this.error('an unterminated reference');
      const ref = raw.slice(amp + 1, semi);
      let decoded: string | undefined;
      if (ref.startsWith('#x')) decoded = this.charReference(ref.slice(2), /^[0-9A-Fa-f]+$/, 16);
      else if (ref.startsWith('#')) decoded = this.charReference(ref.slice(1), /^[0-9]+$/, 10);
      else decoded = PREDEFINED[ref];
      if (decoded === undefined) this.error(`the entity reference &${ref.slice(0, 40)}; (only the predefined entities are allowed)`);
      out += raw.slice(from, amp) + decoded;
      from = semi + 1;
    }
    return out + raw.slice(from);
  }

  private charReference(digits: string, pattern: RegExp, radix: number): string {
    if (!pattern.test(digits) || digits.length > 8) this.error('a malformed character reference');
    const code = Number.parseInt(digits, radix);
    if (!isChar(code)) this.error('a character reference to a character XML does not allow');
    return String.fromCodePoint(code);
  }

  private name(): string {
    const xml = this.xml;
    const start = this.i;
    let k = start;
    let colon = -1;
    for (;;) {
      let c = xml.charCodeAt(k);
      // Names beyond the BMP: a surrogate pair is one code point.
      if (c >= 0xd800 && c <= 0xdbff) c = xml.codePointAt(k) ?? -1;
      if (!(k === start ? isNameStart(c) : isNameChar(c))) break;
      if (c === 0x3a && colon === -1) colon = k - start;
      k += c > 0xffff ? 2 : 1;
    }
    if (k === start) this.error('a name was expected');
    this.i = k;
    this.colon = colon;
    return xml.slice(start, k);
  }

  /** Refuses a name that is not a QName: at most one colon (at `colon`), never first or last. */
  private checkQName(name: string, colon: number): void {
    if (colon === -1) return;
    if (colon === 0 || colon === name.length - 1 || name.indexOf(':', colon + 1) !== -1 || !isNameStart(name.codePointAt(colon + 1) ?? -1)) {
      this.error(`the name ${name.slice(0, 60)} is not a qualified name`);
    }
  }

  private skipSpace(): boolean {
    const start = this.i;
    while (isSpace(this.xml.charCodeAt(this.i))) this.i++;
    return this.i > start;
  }

  private startTag(): void {
    const xml = this.xml;
    if (this.root !== null && this.stack.length === 0) this.error('a second document element');
    if (this.elements.length >= this.bounds.elements) throw new XmlBoundError(`more than ${this.bounds.elements} elements`);
    const start = this.i;
    this.i++;
    const name = this.name();
    const colon = this.colon;
    const names = this.attrNames;
    const values = this.attrValues;
    let count = 0;
    // Whether the tag as written is the canonical one: one space before each attribute, none
    // elsewhere, double quotes, values c14n writes as they are (attribute order: element()).
    let canonical = true;
    let selfClosing = false;
    for (;;) {
      const before = this.i;
      const spaced = this.skipSpace();
      const c = xml.charCodeAt(this.i);
      if (c === 0x3e || (c === 0x2f && xml.charCodeAt(this.i + 1) === 0x3e)) {
        selfClosing = c === 0x2f;
        if (spaced) canonical = false;
        break;
      }
      if (!spaced) this.error(`malformed start tag of ${name.slice(0, 60)}`);
      if (this.i !== before + 1 || xml.charCodeAt(before) !== 0x20) canonical = false;
      const attrName = this.name();
      if (this.skipSpace()) canonical = false;
      if (xml.charCodeAt(this.i) !== 0x3d) this.error(`the attribute ${attrName.slice(0, 60)} has no value`);
      this.i++;
      if (this.skipSpace()) canonical = false;
      const quote = xml.charCodeAt(this.i);
      if (quote !== 0x22 && quote !== 0x27) this.error(`the value of ${attrName.slice(0, 60)} is not quoted`);
      if (quote === 0x27) canonical = false;
      const close = xml.indexOf(quote === 0x22 ? '"' : "'", this.i + 1);
      if (close === -1) this.error('an unterminated attribute value');
      let value = xml.slice(this.i + 1, close);
      if (VALUE_SPECIALS.test(value)) {
        canonical = false;
        if (value.includes('<')) this.error('"<" in an attribute value');
        if (value.includes('\n') || value.includes('\t')) value = value.replace(/[\n\t]/g, ' ');
        if (value.includes('&')) value = this.decodeReferences(value);
      }
      if (count >= this.bounds.attributesPerElement) throw new XmlBoundError(`an element with more than ${this.bounds.attributesPerElement} attributes`);
      if ((attrName === 'xmlns' || attrName.startsWith('xmlns:')) && ++this.namespaceDeclarations > this.bounds.namespaceDeclarations) {
        throw new XmlBoundError(`more than ${this.bounds.namespaceDeclarations} namespace declarations`);
      }
      for (let k = 0; k < count; k++) if (names[k] === attrName) this.error(`the attribute ${attrName.slice(0, 60)} appears twice`);
      names[count] = attrName;
      values[count] = value;
      count++;
      this.i = close + 1;
    }
    const startTagClose = this.i;
    this.i += selfClosing ? 2 : 1;
    this.flushText();
    const element = this.element(name, colon, count, start, startTagClose, selfClosing, canonical);
    if (this.root === null) this.root = element;
    else ((this.stack[this.stack.length - 1] as Element).childNodes as XmlNode[]).push(element);
    this.elements.push(element);
    if (!selfClosing) {
      this.stack.push(element);
      if (this.stack.length > this.bounds.depth) throw new XmlBoundError(`elements nested deeper than ${this.bounds.depth}`);
    }
  }

  private element(name: string, colon: number, count: number, start: number, startTagClose: number, selfClosing: boolean, canonical: boolean): Element {
    const parent = this.stack[this.stack.length - 1] ?? null;
    const names = this.attrNames;
    const values = this.attrValues;
    let namespaces: NamespaceDeclaration[] = NONE;
    for (let k = 0; k < count; k++) {
      const attrName = names[k] as string;
      const value = values[k] as string;
      if (attrName === 'xmlns') {
        if (value === XML_NAMESPACE || value === XMLNS_NAMESPACE) this.error('the default namespace bound to a reserved namespace');
        if (namespaces === NONE) namespaces = [];
        namespaces.push({ prefix: '', uri: value });
      } else if (attrName.startsWith('xmlns:')) {
        this.checkQName(attrName, 5);
        const prefix = attrName.slice(6);
        if (prefix === 'xmlns' || value === XMLNS_NAMESPACE) this.error('a declaration of the reserved prefix xmlns');
        if ((prefix === 'xml') !== (value === XML_NAMESPACE)) this.error('the prefix xml bound to another namespace, or another prefix to the XML namespace');
        if (value === '') this.error(`the prefix ${prefix.slice(0, 60)} undeclared (XML 1.0 namespaces cannot undeclare a prefix)`);
        if (namespaces === NONE) namespaces = [];
        namespaces.push({ prefix, uri: value });
      }
    }
    // Declarations are rendered where c14n decides, never as written.
    if (namespaces !== NONE) canonical = false;
    this.checkQName(name, colon);
    const prefix = colon === -1 ? '' : name.slice(0, colon);
    const namespaceURI = resolve(namespaces, parent, prefix);
    if (prefix !== '' && namespaceURI === null) this.error(`the prefix ${prefix.slice(0, 60)} is not declared`);
    let attributes: XmlAttribute[] = NONE;
    for (let k = 0; k < count; k++) {
      const attrName = names[k] as string;
      if (attrName === 'xmlns' || attrName.startsWith('xmlns:')) continue;
      const attrColon = attrName.indexOf(':');
      this.checkQName(attrName, attrColon);
      const attrPrefix = attrColon === -1 ? '' : attrName.slice(0, attrColon);
      const attrLocal = attrColon === -1 ? attrName : attrName.slice(attrColon + 1);
      const attrNamespace = attrColon === -1 ? null : resolve(namespaces, parent, attrPrefix);
      if (attrPrefix !== '' && attrNamespace === null) this.error(`the prefix ${attrPrefix.slice(0, 60)} is not declared`);
      if (attrNamespace !== null) for (const b of attributes) if (b.namespaceURI === attrNamespace && b.localName === attrLocal) this.error(`the attribute ${attrLocal.slice(0, 60)} appears twice in one namespace`);
      const attribute: XmlAttribute = { name: attrName, prefix: attrPrefix, localName: attrLocal, namespaceURI: attrNamespace, value: values[k] as string };
      // Written in c14n's order, or the tag is rendered again.
      if (canonical && attributes.length > 0 && byNamespaceThenName(attributes[attributes.length - 1] as XmlAttribute, attribute) >= 0) canonical = false;
      if (attributes === NONE) attributes = [];
      attributes.push(attribute);
    }
    return new Element(name, colon, namespaceURI, attributes, namespaces, parent, this.xml, start, startTagClose, selfClosing, canonical);
  }

  private endTag(): void {
    const xml = this.xml;
    const open = this.stack[this.stack.length - 1];
    const endTagStart = this.i;
    this.i += 2;
    // The open element's name, then not a name character: the same name, without scanning it again.
    if (open !== undefined && this.sameName(open) && !isNameChar(xml.codePointAt(this.i + open.name.length) ?? -1)) this.i += open.name.length;
    else this.error(`the end tag does not match ${open?.name.slice(0, 60) ?? 'any open element'}`);
    this.skipSpace();
    if (xml.charCodeAt(this.i) !== 0x3e) this.error(`malformed end tag of ${open.name.slice(0, 60)}`);
    this.i++;
    this.flushText();
    open.endTagStart = endTagStart;
    open.end = this.i;
    this.stack.pop();
  }

  /** Whether the text at the cursor starts with the name of `open`, compared where its start tag has it. */
  private sameName(open: Element): boolean {
    const xml = this.xml;
    const length = open.name.length;
    if (this.i + length > xml.length) return false;
    for (let k = 0, from = open.start + 1; k < length; k++) if (xml.charCodeAt(this.i + k) !== xml.charCodeAt(from + k)) return false;
    return true;
  }

  private commentOrCData(): void {
    const xml = this.xml;
    if (xml.startsWith('<!--', this.i)) {
      const end = xml.indexOf('-->', this.i + 4);
      if (end === -1) this.error('an unterminated comment');
      const body = xml.slice(this.i + 4, end);
      if (body.includes('--') || body.endsWith('-')) this.error('"--" inside a comment');
      this.i = end + 3;
    } else if (xml.startsWith('<![CDATA[', this.i)) {
      if (this.stack.length === 0) this.error('a CDATA section outside the document element');
      const end = xml.indexOf(']]>', this.i + 9);
      if (end === -1) this.error('an unterminated CDATA section');
      this.pendingText += xml.slice(this.i + 9, end);
      this.i = end + 3;
    } else {
      this.error('a markup declaration (DTD), which is never processed');
    }
  }

  private processingInstruction(): void {
    if (this.stack.length > 0) this.error('a processing instruction inside the document element');
    this.i += 2;
    const target = this.name();
    if (target.toLowerCase() === 'xml' || target.includes(':')) this.error('a misplaced XML declaration or a reserved processing instruction target');
    const end = this.xml.indexOf('?>', this.i);
    if (end === -1) this.error('an unterminated processing instruction');
    if (end > this.i && !isSpace(this.xml.charCodeAt(this.i))) this.error('a malformed processing instruction');
    this.i = end + 2;
  }
}

/** The namespace `prefix` is bound to on an element with these declarations and parent, or null. */
function resolve(declarations: readonly NamespaceDeclaration[], parent: XmlElement | null, prefix: string): string | null {
  if (prefix === 'xml') return XML_NAMESPACE;
  for (const d of declarations) if (d.prefix === prefix) return d.uri === '' ? null : d.uri;
  return lookupNamespace(parent, prefix);
}
