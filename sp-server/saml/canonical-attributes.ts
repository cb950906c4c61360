// How exclusive c14n writes attributes: sorted by namespace URI then local name, values escaped.
// The parser uses the order to tell whether a start tag is already canonical as written; the
// canonicalizer uses the rendering for the start tags that are not.

/** What the order and the rendering read of an attribute. */
export interface AttributeForOrder {
  readonly name: string;
  readonly localName: string;
  readonly namespaceURI: string | null;
  readonly value: string;
}

const ATTRIBUTE_SPECIALS = /[&<"\r\n\t]/;

/** Escapes an attribute value as c14n renders it. */
export const escapeAttribute = (s: string): string =>
  ATTRIBUTE_SPECIALS.test(s) ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;') : s;

/** c14n's attribute order: negative when `a` comes first (unprefixed attributes, namespace null, sort as ''). */
export function byNamespaceThenName(a: AttributeForOrder, b: AttributeForOrder): number {
  const an = a.namespaceURI ?? '';
  const bn = b.namespaceURI ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  return a.localName < b.localName ? -1 : a.localName > b.localName ? 1 : 0;
}

/** The attributes of one element as c14n renders them: ` name="value"` each, in c14n's order. */
export function renderAttributes(attributes: readonly AttributeForOrder[]): string {
  let out = '';
  for (const a of attributes.length > 1 ? [...attributes].sort(byNamespaceThenName) : attributes) out += ` ${a.name}="${escapeAttribute(a.value)}"`;
  return out;
}
