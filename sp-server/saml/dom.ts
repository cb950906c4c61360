// Reading untrusted SAML XML: a parse that refuses DTDs and lenient input, accessors that read
// exactly what exclusive c14n covers, and one pass that indexes every ID (duplicates refused).
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { ACS_BODY_LIMIT_MAX_BYTES } from './acs-body-limit.ts';
import { fail, quote, type SamlErrorCode } from './errors.ts';
import { NS } from './uris.ts';
import { exceededBound, SAML_XML_BOUNDS } from '../../xml/bounds.ts';

/** Real responses nest about 8 levels; the bound (one with the pre-parse check) keeps every recursive walk far from the stack limit. */
const MAX_DEPTH = SAML_XML_BOUNDS.depth;
export const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

/**
 * The longest SAMLResponse decoded: a form field is never longer than the body that carries it,
 * so no body limit an installation may set admits a response this refuses.
 */
export const MAX_RESPONSE_BASE64 = ACS_BODY_LIMIT_MAX_BYTES;

export function decodeBase64(samlResponseBase64: string): string {
  const b64 = samlResponseBase64.trim();
  if (b64.length === 0) fail('MALFORMED_RESPONSE', 'the SAMLResponse parameter is empty');
  if (b64.length > MAX_RESPONSE_BASE64) fail('MALFORMED_RESPONSE', `the SAMLResponse is longer than ${MAX_RESPONSE_BASE64} characters`);
  // Linear: after trim() nothing follows the padding. (A trailing \s* after a class that also
  // matches line breaks made the old pattern quadratic in the line breaks before a stray character.)
  if (!/^[A-Za-z0-9+/\r\n]+={0,2}$/.test(b64)) fail('MALFORMED_RESPONSE', 'the SAMLResponse parameter is not base64');
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** Any markup declaration other than a comment or CDATA section: DOCTYPE, ENTITY, ELEMENT… */
const DECLARATION = /<!(?!--|\[CDATA\[)/;

export function parseXml(xml: string, what: string): Document {
  if (DECLARATION.test(xml)) fail('DTD_FORBIDDEN', `the ${what} contains a DTD or entity declaration, which Gatehouse never processes`);
  const over = exceededBound(xml);
  if (over) fail('MALFORMED_RESPONSE', `the ${what} has ${over}, far more than any SAML response needs; it was not parsed`);
  let doc: Document;
  try {
    doc = new DOMParser({
      locator: false,
      // Even xmldom's warnings (unquoted attributes and the like) are refused: a lenient parse is
      // a parser differential an attacker can aim at the signer.
      onError: (level: string, message: string) => {
        throw new Error(`${level}: ${message}`);
      },
    }).parseFromString(xml, 'text/xml');
  } catch (err) {
    fail('MALFORMED_RESPONSE', `the ${what} is not well-formed XML`, err);
  }
  if (doc.doctype !== null) fail('DTD_FORBIDDEN', `the ${what} contains a DTD, which Gatehouse never processes`);
  return doc;
}

export function* children(el: Element): Generator<Element> {
  for (let n: Node | null = el.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE) yield n as Element;
  }
}

export function childrenNamed(el: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (const c of children(el)) if (c.localName === localName && c.namespaceURI === ns) out.push(c);
  return out;
}

export function oneChild(el: Element, ns: string, localName: string, required: true, code?: SamlErrorCode): Element;
export function oneChild(el: Element, ns: string, localName: string, required: false, code?: SamlErrorCode): Element | undefined;
export function oneChild(el: Element, ns: string, localName: string, required: boolean, code: SamlErrorCode = 'MALFORMED_RESPONSE'): Element | undefined {
  const found = childrenNamed(el, ns, localName);
  if (found.length > 1) fail(code, `${el.localName} has ${found.length} ${localName} elements where one is allowed`);
  if (required && found.length === 0) fail(code, `${el.localName} has no ${localName} element`);
  return found[0];
}

/**
 * Text as exclusive c14n sees it: every text and CDATA descendant, comments skipped. Reading only
 * the first text node is the NameID comment-injection bug; this reads what the digest covered.
 */
export function text(el: Element): string {
  let out = '';
  const walk = (n: Node): void => {
    for (let c: Node | null = n.firstChild; c !== null; c = c.nextSibling) {
      if (c.nodeType === TEXT_NODE || c.nodeType === CDATA_SECTION_NODE) out += (c as unknown as { data: string }).data;
      else if (c.nodeType === ELEMENT_NODE) walk(c);
    }
  };
  walk(el);
  return out;
}

export function attr(el: Element, name: string): string | undefined {
  const node = el.getAttributeNode(name);
  return node === null ? undefined : node.value;
}

export interface DocumentIndex {
  ids: Map<string, Element>;
  assertions: number;
}

/** One pass over the document: ID attributes (duplicates refused) and every assertion element. */
export function indexDocument(root: Element): DocumentIndex {
  const ids = new Map<string, Element>();
  let assertions = 0;
  const walk = (el: Element, depth: number): void => {
    if (depth > MAX_DEPTH) fail('MALFORMED_RESPONSE', `the document nests elements deeper than ${MAX_DEPTH} levels`);
    if (el.namespaceURI === NS.saml && (el.localName === 'Assertion' || el.localName === 'EncryptedAssertion')) assertions++;
    const attrs = el.attributes;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs.item(i);
      if (a === null || a.namespaceURI !== null) continue;
      if (a.localName === 'ID' || a.localName === 'Id' || a.localName === 'id') {
        if (ids.has(a.value)) fail('SIGNATURE_WRAPPING', `the ID ${quote(a.value, 60)} appears on more than one element`);
        ids.set(a.value, el);
      }
    }
    for (const c of children(el)) walk(c, depth + 1);
  };
  walk(root, 0);
  return { ids, assertions };
}

export function parseTime(value: string | undefined, what: string): Date | undefined {
  if (value === undefined) return undefined;
  // xs:dateTime; SAML requires UTC, but an explicit offset is unambiguous too.
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) fail('MALFORMED_RESPONSE', `${what} is not an xs:dateTime: ${quote(value, 40)}`);
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) fail('MALFORMED_RESPONSE', `${what} is not a valid time: ${quote(value, 40)}`);
  return t;
}
