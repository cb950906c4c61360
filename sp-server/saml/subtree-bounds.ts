// Budgets for the parts of a response that are walked before any signature has been verified,
// checked before that work runs. The document-wide bounds (xml/bounds.ts) still admit thousands of
// elements and attributes in one place, and two steps cost more than a linear walk per node
// there: the c14n of a ds:SignedInfo (a search of the bindings in scope per namespace used) and
// xml-encryption's XPath queries over an EncryptedAssertion. What any IdP writes is a handful of
// elements in each: one Reference in a SignedInfo, one EncryptedData and EncryptedKey.
import { ELEMENT_NODE, type XmlElement, type XmlNode } from './xml-tree.ts';

export interface SubtreeBounds {
  /** Element and text nodes, the root included (comments are not kept by the parse). */
  nodes: number;
  elements: number;
  /** Attributes, namespace declarations included. */
  attributes: number;
  /** Characters of attribute names and values, namespace declarations and text. */
  characters: number;
  /** Levels below the root. */
  depth: number;
}

/** A SignedInfo: Reference/Transforms/Transform/InclusiveNamespaces is 4 levels, about ten elements. */
export const SIGNED_INFO_BOUNDS: SubtreeBounds = { nodes: 96, elements: 32, attributes: 64, characters: 8192, depth: 8 };

/** An EncryptedAssertion: EncryptedData, its KeyInfo and EncryptedKey; the CipherValue text is as long as the assertion. */
export const ENCRYPTED_ASSERTION_BOUNDS: SubtreeBounds = { nodes: 128, elements: 48, attributes: 96, characters: Number.POSITIVE_INFINITY, depth: 10 };

/** Which budget `root` exceeds, or undefined; the walk stops as soon as one is spent. */
export function exceededSubtreeBound(root: XmlElement, bounds: SubtreeBounds): string | undefined {
  let nodes = 0;
  let elements = 0;
  let attributes = 0;
  let characters = 0;
  const walk = (node: XmlNode, depth: number): string | undefined => {
    if (++nodes > bounds.nodes) return `more than ${bounds.nodes} nodes`;
    if (depth > bounds.depth) return `more than ${bounds.depth} levels`;
    if (node.nodeType !== ELEMENT_NODE) {
      characters += node.data.length;
      return characters > bounds.characters ? `more than ${bounds.characters} characters` : undefined;
    }
    if (++elements > bounds.elements) return `more than ${bounds.elements} elements`;
    attributes += node.attributes.length + node.namespaces.length;
    if (attributes > bounds.attributes) return `more than ${bounds.attributes} attributes`;
    for (const a of node.attributes) characters += a.name.length + a.value.length;
    for (const d of node.namespaces) characters += d.prefix.length + 6 + d.uri.length;
    if (characters > bounds.characters) return `more than ${bounds.characters} characters`;
    for (const c of node.childNodes) {
      const over = walk(c, depth + 1);
      if (over !== undefined) return over;
    }
    return undefined;
  };
  return walk(root, 0);
}
