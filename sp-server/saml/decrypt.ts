// Decryption of an EncryptedAssertion with the profile's SP key, refusing weak algorithms and
// giving every failure the same code and hint so the ACS is no decryption oracle.
import type { Document, Element } from '@xmldom/xmldom';
import xmlenc from 'xml-encryption';
import type { RenderedProfile } from '../../crds/api/index.ts';
import { attr, children, oneChild, parseXml } from './dom.ts';
import { fail, quote } from './errors.ts';
import { exceededSubtreeBound, ENCRYPTED_ASSERTION_BOUNDS } from './subtree-bounds.ts';
import { DECRYPTION_ALGORITHM_URIS, NS } from './uris.ts';

const DECRYPTION_HINT = 'the EncryptedAssertion cannot be decrypted with the SP key: the IdP encrypts for another certificate, or the data is corrupt';

/** The decrypted Assertion element, parsed as untrusted XML in a document of its own. */
export async function decryptAssertion(encrypted: Element, profile: RenderedProfile): Promise<Element> {
  oneChild(encrypted, NS.xenc, 'EncryptedData', true, 'DECRYPTION_FAILED');
  // xml-encryption's XPath queries cost far more per node than one walk: only the shape an IdP writes reaches them.
  if (exceededSubtreeBound(encrypted, ENCRYPTED_ASSERTION_BOUNDS) !== undefined) fail('DECRYPTION_FAILED', DECRYPTION_HINT);
  const walk = (el: Element): void => {
    for (const c of children(el)) {
      if (c.localName === 'EncryptionMethod') {
        const alg = attr(c, 'Algorithm') ?? '';
        if (!DECRYPTION_ALGORITHM_URIS.has(alg)) fail('DECRYPTION_FAILED', `the EncryptedAssertion uses ${quote(alg)}, Gatehouse accepts RSA-OAEP with AES-CBC or AES-GCM`);
      }
      walk(c);
    }
  };
  walk(encrypted);
  const xml = encrypted.toString();
  const plain = await new Promise<string>((resolve, reject) => {
    xmlenc.decrypt(xml, { key: profile.sp.key.privateKeyPem, disallowDecryptionWithInsecureAlgorithm: true, warnInsecureAlgorithm: false }, (err, result) => {
      if (err !== null || result === undefined) reject(err ?? new Error('no result'));
      else resolve(result);
    });
  }).catch((err: unknown) => fail('DECRYPTION_FAILED', DECRYPTION_HINT, err));
  // Every failure from here to a parsed Assertion looks the same from outside (code and hint):
  // with AES-CBC under an unsigned response, telling "bad padding" from "bad plaintext" would
  // make the ACS a decryption oracle (Jager & Somorovsky, 2011).
  let doc: Document;
  try {
    doc = parseXml(plain, 'decrypted assertion');
  } catch (err) {
    fail('DECRYPTION_FAILED', DECRYPTION_HINT, err);
  }
  const root = doc.documentElement;
  if (root === null || root.localName !== 'Assertion' || root.namespaceURI !== NS.saml) fail('DECRYPTION_FAILED', DECRYPTION_HINT);
  return root;
}
