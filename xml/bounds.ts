// Bounds on untrusted XML, checked in one linear pass before anything parses or canonicalizes
// it: the cost of xmldom and of xml-crypto's exclusive c14n grows faster than linearly with
// attributes and namespace declarations per element (a SignedInfo with 16,000 of them blocked the
// event loop for seconds), so a document over these bounds is refused before that work starts.
// Real responses stay far below every bound: about a dozen elements deep, a few attributes each.

export interface XmlBounds {
  elements: number;
  depth: number;
  /** Attributes of one element, namespace declarations included. */
  attributesPerElement: number;
  /** xmlns declarations in the whole document. */
  namespaceDeclarations: number;
}

// 8,000 elements: a response carrying 2,000 attribute values (group memberships) has about 4,100;
// a document at the bound costs about 80 ms of validation CPU, at 20,000 it cost 210 ms.
export const SAML_XML_BOUNDS: XmlBounds = { elements: 8_000, depth: 64, attributesPerElement: 32, namespaceDeclarations: 512 };

/** What was exceeded, or undefined when the document is within the bounds. */
export function exceededBound(xml: string, bounds: XmlBounds = SAML_XML_BOUNDS): string | undefined {
  let elements = 0;
  let depth = 0;
  let namespaces = 0;
  let i = xml.indexOf('<');
  while (i !== -1 && i < xml.length) {
    const next = xml[i + 1];
    if (xml.startsWith('<!--', i)) i = skipPast(xml, i, '-->');
    else if (xml.startsWith('<![CDATA[', i)) i = skipPast(xml, i, ']]>');
    else if (next === '?' || next === '!') i = skipPast(xml, i, '>');
    else if (next === '/') {
      depth--;
      i = skipPast(xml, i, '>');
    } else {
      if (++elements > bounds.elements) return `more than ${bounds.elements} elements`;
      // One pass over the start tag: names outside quoted values are attributes. The name before
      // each `=` is the last unquoted token, tracked as the scan goes (never searched backwards).
      let attributes = 0;
      let j = i + 1;
      let quote = '';
      let selfClosing = false;
      let tokenStart = -1;
      let tokenEnd = -1;
      for (; j < xml.length; j++) {
        const c = xml[j] as string;
        if (quote) {
          if (c === quote) quote = '';
        } else if (c === '"' || c === "'") {
          quote = c;
          tokenStart = -1;
        } else if (c === '=') {
          if (++attributes > bounds.attributesPerElement) return `an element with more than ${bounds.attributesPerElement} attributes`;
          const name = tokenStart === -1 ? '' : xml.slice(tokenStart, tokenEnd === -1 ? j : tokenEnd);
          if ((name === 'xmlns' || name.startsWith('xmlns:')) && ++namespaces > bounds.namespaceDeclarations) return `more than ${bounds.namespaceDeclarations} namespace declarations`;
          tokenStart = -1;
        } else if (c === '>') {
          selfClosing = xml[j - 1] === '/';
          break;
        } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
          if (tokenStart !== -1 && tokenEnd === -1) tokenEnd = j;
        } else if (tokenStart === -1 || tokenEnd !== -1) {
          tokenStart = j;
          tokenEnd = -1;
        }
      }
      if (!selfClosing && ++depth > bounds.depth) return `elements nested deeper than ${bounds.depth}`;
      i = j + 1;
    }
    i = i === -1 ? -1 : xml.indexOf('<', i);
  }
  return undefined;
}

function skipPast(xml: string, from: number, end: string): number {
  const at = xml.indexOf(end, from);
  return at === -1 ? -1 : at + end.length;
}
