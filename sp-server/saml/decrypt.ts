// Decryption of an EncryptedAssertion with the profile's SP key, refusing weak algorithms and
// giving every failure the same code and hint so the ACS is no decryption oracle.
import xmlenc from 'xml-encryption';
import type { RenderedProfile } from '../../crds/api/index.ts';
import { attr, children, oneChild, parseXml, type Element } from './dom.ts';
import { exclusiveC14n } from './exc-c14n.ts';
import { fail } from './errors.ts';
import { exceededSubtreeBound, ENCRYPTED_ASSERTION_BOUNDS } from './subtree-bounds.ts';
import { DECRYPTION_ALGORITHM_URIS, NS } from './uris.ts';
import type { XmlTree } from './xml-tree.ts';

/**
 * The one hint of every decryption-stage refusal. With AES-CBC under an unsigned Response, telling
 * "wrong key", "bad padding", "refused algorithm", "malformed EncryptedData" or "not an assertion"
 * apart would make the ACS a decryption oracle (Jager & Somorovsky, 2011); the cause stays in the
 * error's `cause` for debug logs only.
 */
export const DECRYPTION_HINT = 'the EncryptedAssertion did not decrypt, with the SP key and RSA-OAEP with AES-CBC or AES-GCM, to an assertion the IdP signed';

/** The decrypted Assertion, parsed as untrusted XML in a document of its own (its root is the Assertion). */
export async function decryptAssertion(encrypted: Element, profile: RenderedProfile): Promise<XmlTree> {
  try {
    return await decrypt(encrypted, profile);
  } catch (err) {
    fail('DECRYPTION_FAILED', DECRYPTION_HINT, err);
  }
}

async function decrypt(encrypted: Element, profile: RenderedProfile): Promise<XmlTree> {
  oneChild(encrypted, NS.xenc, 'EncryptedData', true);
  // xml-encryption's XPath queries cost far more per node than one walk: only the shape an IdP writes reaches them.
  const over = exceededSubtreeBound(encrypted, ENCRYPTED_ASSERTION_BOUNDS);
  if (over !== undefined) throw new Error(`the EncryptedAssertion has ${over}`);
  const walk = (el: Element): void => {
    for (const c of children(el)) {
      if (c.localName === 'EncryptionMethod' && !DECRYPTION_ALGORITHM_URIS.has(attr(c, 'Algorithm') ?? '')) throw new Error(`refused algorithm ${attr(c, 'Algorithm') ?? ''}`);
      walk(c);
    }
  };
  walk(encrypted);
  const plain = await new Promise<string>((resolve, reject) => {
    // The canonical form is a standalone serialization: every prefix it uses is declared in it.
    xmlenc.decrypt(exclusiveC14n.canonicalize(encrypted, { inclusivePrefixes: [] }), { key: profile.sp.key.privateKeyPem, disallowDecryptionWithInsecureAlgorithm: true, warnInsecureAlgorithm: false }, (err, result) => {
      if (err !== null || result === undefined) reject(err ?? new Error('no result'));
      else resolve(result);
    });
  });
  const tree = parseXml(plain, 'decrypted assertion');
  if (tree.root.localName !== 'Assertion' || tree.root.namespaceURI !== NS.saml) throw new Error('the plaintext is not a SAML Assertion');
  return tree;
}
