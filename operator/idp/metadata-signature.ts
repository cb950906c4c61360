// The metadata signature an SSOProfile may require: one enveloped XML signature, a direct child of
// the document's root element, covering exactly that root (URI="#ID"), verified with the pinned
// spec.idp.metadata.signingCertificate only (KeyInfo is never trusted) and strict algorithms.
import { createHash, X509Certificate } from 'node:crypto';
import type { Document, Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { childElements, IdPConfigError } from './metadata.ts';

const DS = 'http://www.w3.org/2000/09/xmldsig#';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
/** SHA-2 RSA only: SHA-1 and the rest are refused for metadata, whatever a profile accepts for responses. */
const SIGNATURE_ALGORITHMS = new Set(['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512']);
const DIGEST_ALGORITHMS = new Set(['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512']);
const TRANSFORMS = new Set([ENVELOPED, EXC_C14N]);

const invalid = (message: string) => new IdPConfigError('MetadataSignatureInvalid', message);

function only(parent: Element, localName: string): Element {
  const found = childElements(parent, DS, localName);
  if (found.length !== 1) throw invalid(`the metadata signature has ${found.length} ds:${localName} elements where exactly one is expected`);
  return found[0] as Element;
}

function algorithmOf(parent: Element, localName: string, allowed: ReadonlySet<string>, what: string): string {
  const alg = only(parent, localName).getAttribute('Algorithm') ?? '';
  if (!allowed.has(alg)) throw invalid(`the metadata signature uses ${what} ${JSON.stringify(alg)}; accepted: ${[...allowed].join(', ')}`);
  return alg;
}

function fingerprint(pem: string): string {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return `(sha256 of the text ${createHash('sha256').update(pem).digest('hex').slice(0, 12)}…)`;
  }
}

/** Throws IdPConfigError (MetadataUnsigned, MetadataSignatureInvalid) unless `doc`, parsed from `xml`, is signed as required. */
export function verifyMetadataSignature(doc: Document, xml: string, signingCertificatePem: string): void {
  const root = doc.documentElement;
  if (!root) throw new IdPConfigError('MetadataInvalid', 'IdP metadata has no root element');
  const what = root.localName;
  const signatures = childElements(root, DS, 'Signature');
  if (signatures.length === 0) {
    const elsewhere = doc.getElementsByTagNameNS(DS, 'Signature')[0]?.parentNode;
    if (elsewhere) throw invalid(`the metadata is signed only in part (a signature on a ${(elsewhere as Element).localName ?? 'node'}), not as a whole: spec.idp.metadata.signingCertificate requires a signature on the root ${what}`);
    throw new IdPConfigError('MetadataUnsigned', `the IdP metadata's root ${what} carries no signature, and spec.idp.metadata.signingCertificate requires one: fetch the IdP's signed metadata, or remove signingCertificate`);
  }
  if (signatures.length > 1) throw invalid(`the metadata's root ${what} carries ${signatures.length} signatures where exactly one is expected`);
  const signature = signatures[0] as Element;
  const signedInfo = only(signature, 'SignedInfo');
  algorithmOf(signedInfo, 'CanonicalizationMethod', new Set([EXC_C14N]), 'canonicalization');
  algorithmOf(signedInfo, 'SignatureMethod', SIGNATURE_ALGORITHMS, 'signature algorithm');
  // Exactly one reference, to the root: a signature over a part (a child EntityDescriptor, say) vouches for nothing else.
  const references = childElements(signedInfo, DS, 'Reference');
  const id = root.getAttribute('ID');
  const uri = references[0]?.getAttribute('URI');
  if (references.length !== 1 || !id || uri !== `#${id}`) {
    throw invalid(`the metadata signature must cover the root ${what} alone (one Reference with URI="#${id ?? ''}"); it has ${references.length} reference(s)${uri === undefined ? '' : `, the first to ${JSON.stringify(uri)}`}`);
  }
  const reference = references[0] as Element;
  const transforms = childElements(reference, DS, 'Transforms')[0];
  const algorithms = transforms ? childElements(transforms, DS, 'Transform').map((t) => t.getAttribute('Algorithm') ?? '') : [];
  const unknown = algorithms.find((a) => !TRANSFORMS.has(a));
  if (unknown !== undefined) throw invalid(`the metadata signature uses transform ${JSON.stringify(unknown)}; accepted: enveloped-signature and exclusive c14n`);
  if (!algorithms.includes(ENVELOPED)) throw invalid('the metadata signature is not an enveloped signature (no enveloped-signature transform)');
  algorithmOf(reference, 'DigestMethod', DIGEST_ALGORITHMS, 'digest');

  const verifier = new SignedXml({ publicCert: signingCertificatePem, getCertFromKeyInfo: () => null });
  // The same allow-list again inside xml-crypto, so nothing outside it can be looked up there.
  const keep = <T>(table: Record<string, T>, allowed: ReadonlySet<string>) => Object.fromEntries(Object.entries(table).filter(([uri]) => allowed.has(uri)));
  verifier.SignatureAlgorithms = keep(verifier.SignatureAlgorithms, SIGNATURE_ALGORITHMS);
  verifier.HashAlgorithms = keep(verifier.HashAlgorithms, DIGEST_ALGORITHMS);
  verifier.CanonicalizationAlgorithms = keep(verifier.CanonicalizationAlgorithms, TRANSFORMS);
  verifier.loadSignature(signature as unknown as Node);
  let verified: boolean;
  try {
    verified = verifier.checkSignature(xml);
  } catch (err) {
    const detail = (err as Error).message;
    if (/signature value .* is incorrect/.test(detail)) {
      throw invalid(`the metadata signature does not verify with spec.idp.metadata.signingCertificate (SHA-256 ${fingerprint(signingCertificatePem)}): the IdP signs with another key, or the metadata was altered`);
    }
    throw invalid(`the metadata signature cannot be checked: ${detail.slice(0, 300)}`);
  }
  if (!verified) throw invalid(`the metadata was modified after it was signed (the digest of the root ${what} does not match)`);
}
