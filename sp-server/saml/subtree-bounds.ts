// Budgets for the parts of a response that third-party code walks before any signature has been
// verified, checked before that code runs. The document-wide bounds (xml/bounds.ts) still admit
// thousands of elements and attributes in one place, and two steps cost far more than a linear
// walk per node there: xml-crypto's c14n of a ds:SignedInfo (every child copies the list of
// prefixes in scope, every attribute searches it and the InclusiveNamespaces PrefixList), and
// xml-encryption's XPath queries over an EncryptedAssertion. What any IdP writes is a handful of
// elements in each: one Reference in a SignedInfo, one EncryptedData and EncryptedKey.
import type { Element, Node } from '@xmldom/xmldom';
import { ELEMENT_NODE } from './dom.ts';

export interface SubtreeBounds {
  /** Nodes of any kind (elements, text, comments), the root included. */
  nodes: number;
  elements: number;
  /** Attributes, namespace declarations included. */
  attributes: number;
  /** Characters of attribute names and values, text and comments. */
  characters: number;
  /** Levels below the root. */
  depth: number;
}

/** A SignedInfo: Reference/Transforms/Transform/InclusiveNamespaces is 4 levels, about ten elements. */
export const SIGNED_INFO_BOUNDS: SubtreeBounds = { nodes: 96, elements: 32, attributes: 64, characters: 8192, depth: 8 };

/** An EncryptedAssertion: EncryptedData, its KeyInfo and EncryptedKey; the CipherValue text is as long as the assertion. */
export const ENCRYPTED_ASSERTION_BOUNDS: SubtreeBounds = { nodes: 128, elements: 48, attributes: 96, characters: Number.POSITIVE_INFINITY, depth: 10 };

/** Which budget `root` exceeds, or undefined; the walk stops as soon as one is spent. */
export function exceededSubtreeBound(root: Element, bounds: SubtreeBounds): string | undefined {
  let nodes = 0;
  let elements = 0;
  let attributes = 0;
  let characters = 0;
  const walk = (node: Node, depth: number): string | undefined => {
    if (++nodes > bounds.nodes) return `more than ${bounds.nodes} nodes`;
    if (depth > bounds.depth) return `more than ${bounds.depth} levels`;
    if (node.nodeType !== ELEMENT_NODE) {
      characters += (node as unknown as { data?: string }).data?.length ?? 0;
      return characters > bounds.characters ? `more than ${bounds.characters} characters` : undefined;
    }
    if (++elements > bounds.elements) return `more than ${bounds.elements} elements`;
    const attrs = (node as Element).attributes;
    attributes += attrs.length;
    if (attributes > bounds.attributes) return `more than ${bounds.attributes} attributes`;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs.item(i);
      characters += (a?.name.length ?? 0) + (a?.value.length ?? 0);
    }
    if (characters > bounds.characters) return `more than ${bounds.characters} characters`;
    for (let c = node.firstChild; c !== null; c = c.nextSibling) {
      const over = walk(c, depth + 1);
      if (over !== undefined) return over;
    }
    return undefined;
  };
  return walk(root, 0);
}
