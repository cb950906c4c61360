// Reading untrusted SAML XML: a strict parse (xml-tree.ts) that refuses DTDs and lenient input,
// accessors that read exactly what exclusive c14n covers, and the index of every ID (duplicates
// refused) taken from the parse's list of elements.
import { ACS_BODY_LIMIT_MAX_BYTES } from './acs-body-limit.ts';
import { fail, quote, type SamlErrorCode } from './errors.ts';
import { NS } from './uris.ts';
import { ELEMENT_NODE, parseXmlTree, TEXT_NODE, XmlBoundError, type XmlElement, type XmlNode, type XmlTree } from './xml-tree.ts';
import { SAML_XML_BOUNDS } from '../../xml/bounds.ts';

export type Element = XmlElement;
export { ELEMENT_NODE };

/**
 * The longest SAMLResponse decoded: a form field is never longer than the body that carries it,
 * so no body limit an installation may set admits a response this refuses.
 */
export const MAX_RESPONSE_BASE64 = ACS_BODY_LIMIT_MAX_BYTES;

export function decodeBase64(samlResponseBase64: string): string {
  const b64 = samlResponseBase64.trim();
  if (b64.length === 0) fail('MALFORMED_RESPONSE', 'the SAMLResponse parameter is empty');
  if (b64.length > MAX_RESPONSE_BASE64) fail('MALFORMED_RESPONSE', `the SAMLResponse is longer than ${MAX_RESPONSE_BASE64} characters`);
  const bytes = Buffer.from(b64, 'base64');
  // Node's decoder skips what is not base64, so the text is checked: one canonical line (what
  // browsers post) encodes back to itself, which the pattern would accept; anything else must
  // match the pattern. Linear: after trim() nothing follows the padding. (A trailing \s* after a
  // class that also matches line breaks made an old pattern quadratic in the line breaks.)
  if (bytes.toString('base64') !== b64 && !/^[A-Za-z0-9+/\r\n]+={0,2}$/.test(b64)) fail('MALFORMED_RESPONSE', 'the SAMLResponse parameter is not base64');
  return bytes.toString('utf8');
}

/** Whether `xml` has a markup declaration other than a comment or CDATA section: DOCTYPE, ENTITY, ELEMENT… */
function hasDeclaration(xml: string): boolean {
  // indexOf finds "<!" several times faster than a regular expression scans for it.
  for (let at = xml.indexOf('<!'); at !== -1; at = xml.indexOf('<!', at + 2)) {
    if (!xml.startsWith('--', at + 2) && !xml.startsWith('[CDATA[', at + 2)) return true;
  }
  return false;
}

export function parseXml(xml: string, what: string): XmlTree {
  if (hasDeclaration(xml)) fail('DTD_FORBIDDEN', `the ${what} contains a DTD or entity declaration, which Gatehouse never processes`);
  try {
    // Anything not well-formed, however slightly, is refused: a lenient parse is a parser
    // differential an attacker can aim at the signer.
    return parseXmlTree(xml, SAML_XML_BOUNDS);
  } catch (err) {
    if (err instanceof XmlBoundError) fail('MALFORMED_RESPONSE', `the ${what} has ${err.message}, far more than any SAML response needs; it was not parsed further`);
    fail('MALFORMED_RESPONSE', `the ${what} is not well-formed XML`, err);
  }
}

export function children(el: Element): Element[] {
  const out: Element[] = [];
  for (const c of el.childNodes) if (c.nodeType === ELEMENT_NODE) out.push(c);
  return out;
}

/** Whether a child node is the element `localName` of namespace `ns`. */
const isNamed = (c: XmlNode, ns: string, localName: string): c is Element => c.nodeType === ELEMENT_NODE && c.localName === localName && c.namespaceURI === ns;

export function childrenNamed(el: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (const c of el.childNodes) if (isNamed(c, ns, localName)) out.push(c);
  return out;
}

export function oneChild(el: Element, ns: string, localName: string, required: true, code?: SamlErrorCode): Element;
export function oneChild(el: Element, ns: string, localName: string, required: false, code?: SamlErrorCode): Element | undefined;
export function oneChild(el: Element, ns: string, localName: string, required: boolean, code: SamlErrorCode = 'MALFORMED_RESPONSE'): Element | undefined {
  let found: Element | undefined;
  let count = 0;
  for (const c of el.childNodes) {
    if (!isNamed(c, ns, localName)) continue;
    found ??= c;
    count++;
  }
  if (count > 1) fail(code, `${el.localName} has ${count} ${localName} elements where one is allowed`);
  if (required && found === undefined) fail(code, `${el.localName} has no ${localName} element`);
  return found;
}

/**
 * Text as exclusive c14n sees it: every text and CDATA descendant, comments skipped. Reading only
 * the first text node is the NameID comment-injection bug; this reads what the digest covered.
 */
export function text(el: Element): string {
  let out = '';
  for (const c of el.childNodes) out += c.nodeType === TEXT_NODE ? c.data : text(c);
  return out;
}

/** The attribute with this qualified name (never a namespace declaration). */
export function attr(el: Element, name: string): string | undefined {
  for (const a of el.attributes) if (a.name === name) return a.value;
  return undefined;
}

export function attrNS(el: Element, ns: string, localName: string): string | undefined {
  for (const a of el.attributes) if (a.localName === localName && a.namespaceURI === ns) return a.value;
  return undefined;
}

export interface DocumentIndex {
  ids: Map<string, Element>;
  assertions: number;
}

/** Every element's ID attributes (duplicates refused) and the number of assertion elements, from the parse's element list. */
export function indexDocument(tree: XmlTree): DocumentIndex {
  const ids = new Map<string, Element>();
  let assertions = 0;
  for (const el of tree.elements) {
    if (el.namespaceURI === NS.saml && (el.localName === 'Assertion' || el.localName === 'EncryptedAssertion')) assertions++;
    for (const a of el.attributes) {
      if (a.namespaceURI !== null || (a.localName !== 'ID' && a.localName !== 'Id' && a.localName !== 'id')) continue;
      if (ids.has(a.value)) fail('SIGNATURE_WRAPPING', `the ID ${quote(a.value, 60)} appears on more than one element`);
      ids.set(a.value, el);
    }
  }
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
