// Decryption of an EncryptedAssertion with the profile's SP key, refusing weak algorithms and
// giving every failure the same code and hint so the ACS is no decryption oracle.
import type { Element } from '@xmldom/xmldom';
import xmlenc from 'xml-encryption';
import type { RenderedProfile } from '../../crds/api/index.ts';
import { attr, children, oneChild, parseXml } from './dom.ts';
import { fail } from './errors.ts';
import { exceededSubtreeBound, ENCRYPTED_ASSERTION_BOUNDS } from './subtree-bounds.ts';
import { DECRYPTION_ALGORITHM_URIS, NS } from './uris.ts';

/**
 * The one hint of every decryption-stage refusal. With AES-CBC under an unsigned Response, telling
 * "wrong key", "bad padding", "refused algorithm", "malformed EncryptedData" or "not an assertion"
 * apart would make the ACS a decryption oracle (Jager & Somorovsky, 2011); the cause stays in the
 * error's `cause` for debug logs only.
 */
export const DECRYPTION_HINT = 'the EncryptedAssertion did not decrypt, with the SP key and RSA-OAEP with AES-CBC or AES-GCM, to an assertion the IdP signed';

/** The decrypted Assertion element, parsed as untrusted XML in a document of its own. */
export async function decryptAssertion(encrypted: Element, profile: RenderedProfile): Promise<Element> {
  try {
    return await decrypt(encrypted, profile);
  } catch (err) {
    fail('DECRYPTION_FAILED', DECRYPTION_HINT, err);
  }
}

async function decrypt(encrypted: Element, profile: RenderedProfile): Promise<Element> {
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
    xmlenc.decrypt(encrypted.toString(), { key: profile.sp.key.privateKeyPem, disallowDecryptionWithInsecureAlgorithm: true, warnInsecureAlgorithm: false }, (err, result) => {
      if (err !== null || result === undefined) reject(err ?? new Error('no result'));
      else resolve(result);
    });
  });
  const root = parseXml(plain, 'decrypted assertion').documentElement;
  if (root === null || root.localName !== 'Assertion' || root.namespaceURI !== NS.saml) throw new Error('the plaintext is not a SAML Assertion');
  return root;
}
