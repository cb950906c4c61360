// The metadata signature an SSOProfile may require: one enveloped XML signature, a direct child of
// the document's root element, covering exactly that root (URI="#ID"), verified with the pinned
// spec.idp.metadata.signingCertificate only (KeyInfo is never read) and strict algorithms. xml-crypto
// canonicalizes; the rest is direct (its own verifier walks the whole document with XPath several
// times, which costs seconds on large metadata).
import { createHash, timingSafeEqual, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import type { Document, Element } from '@xmldom/xmldom';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { childElements, IdPConfigError } from './metadata.ts';

const DS = 'http://www.w3.org/2000/09/xmldsig#';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
/** SHA-2 RSA only: SHA-1 and the rest are refused for metadata, whatever a profile accepts for responses. */
const SIGNATURE_HASHES: ReadonlyMap<string, string> = new Map([
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'sha256'],
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', 'sha512'],
]);
const DIGEST_HASHES: ReadonlyMap<string, string> = new Map([
  ['http://www.w3.org/2001/04/xmlenc#sha256', 'sha256'],
  ['http://www.w3.org/2001/04/xmlenc#sha512', 'sha512'],
]);
const TRANSFORMS = new Set([ENVELOPED, EXC_C14N]);

const c14n = new ExclusiveCanonicalization();

/** The InclusiveNamespaces PrefixList of a c14n method or transform. */
function inclusivePrefixes(method: Element): string[] {
  const list = method.getElementsByTagNameNS(EXC_C14N, 'InclusiveNamespaces')[0]?.getAttribute('PrefixList') ?? '';
  return list.split(/\s+/).filter((p) => p !== '');
}

/** Exclusive c14n of `el`; `ancestors` supply the declarations an inclusive prefix may name. */
function canonicalize(el: Element, prefixes: string[], ancestors: Element[]): string {
  if (prefixes.length === 0) return c14n.process(el as never, {});
  const ancestorNamespaces = ancestors.flatMap((a) =>
    Array.from(a.attributes)
      .filter((attr) => attr.name.startsWith('xmlns:'))
      .map((attr) => ({ prefix: attr.name.slice(6), namespaceURI: attr.value })),
  );
  return c14n.process(el as never, { inclusiveNamespacesPrefixList: prefixes, ancestorNamespaces });
}

const invalid = (message: string) => new IdPConfigError('MetadataSignatureInvalid', message);

function only(parent: Element, localName: string): Element {
  const found = childElements(parent, DS, localName);
  if (found.length !== 1) throw invalid(`the metadata signature has ${found.length} ds:${localName} elements where exactly one is expected`);
  return found[0] as Element;
}

function algorithmOf(parent: Element, localName: string, allowed: ReadonlySet<string> | ReadonlyMap<string, string>, what: string): string {
  const alg = only(parent, localName).getAttribute('Algorithm') ?? '';
  if (!allowed.has(alg)) throw invalid(`the metadata signature uses ${what} ${JSON.stringify(alg)}; accepted: ${[...allowed.keys()].join(', ')}`);
  return alg;
}

/** Throws IdPConfigError (MetadataUnsigned, MetadataSignatureInvalid, CertificateInvalid) unless `doc` is signed as required. */
export function verifyMetadataSignature(doc: Document, signingCertificatePem: string): void {
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
  const signatureAlgorithm = algorithmOf(signedInfo, 'SignatureMethod', SIGNATURE_HASHES, 'signature algorithm');
  // Exactly one reference, to the root: a signature over a part (a child EntityDescriptor, say) vouches for nothing else.
  const references = childElements(signedInfo, DS, 'Reference');
  const id = root.getAttribute('ID');
  const uri = references[0]?.getAttribute('URI');
  if (references.length !== 1 || !id || uri !== `#${id}`) {
    throw invalid(`the metadata signature must cover the root ${what} alone (one Reference with URI="#${id ?? ''}"); it has ${references.length} reference(s)${uri === undefined ? '' : `, the first to ${JSON.stringify(uri)}`}`);
  }
  const reference = references[0] as Element;
  const transformList = childElements(reference, DS, 'Transforms')[0];
  const transformElements = transformList ? childElements(transformList, DS, 'Transform') : [];
  const algorithms = transformElements.map((t) => t.getAttribute('Algorithm') ?? '');
  const transforms = transformElements.find((t) => t.getAttribute('Algorithm') === EXC_C14N);
  const unknown = algorithms.find((a) => !TRANSFORMS.has(a));
  if (unknown !== undefined) throw invalid(`the metadata signature uses transform ${JSON.stringify(unknown)}; accepted: enveloped-signature and exclusive c14n`);
  if (!algorithms.includes(ENVELOPED) || transforms === undefined) throw invalid('the metadata signature must list the enveloped-signature and exclusive c14n transforms');
  const digestAlgorithm = algorithmOf(reference, 'DigestMethod', DIGEST_HASHES, 'digest');

  // SignedInfo first: a signature by another key is reported as such, whatever it covers.
  const signedInfoCanon = canonicalize(signedInfo, inclusivePrefixes(only(signedInfo, 'CanonicalizationMethod')), [signature, root]);
  const signatureValue = Buffer.from((only(signature, 'SignatureValue').textContent ?? '').replace(/\s+/g, ''), 'base64');
  let publicKey: KeyObject;
  try {
    publicKey = new X509Certificate(signingCertificatePem).publicKey;
  } catch (err) {
    throw new IdPConfigError('CertificateInvalid', `spec.idp.metadata.signingCertificate cannot be parsed as X.509: ${(err as Error).message}`);
  }
  let verified = false;
  try {
    verified = cryptoVerify(SIGNATURE_HASHES.get(signatureAlgorithm) as string, Buffer.from(signedInfoCanon, 'utf8'), publicKey, signatureValue);
  } catch {
    verified = false;
  }
  if (!verified) {
    throw invalid(`the metadata signature does not verify with spec.idp.metadata.signingCertificate (SHA-256 ${new X509Certificate(signingCertificatePem).fingerprint256}): the IdP signs with another key, or the metadata was altered`);
  }
  // The enveloped-signature transform: the digest covers the root without this signature.
  const next = signature.nextSibling;
  root.removeChild(signature);
  let rootCanon: string;
  try {
    rootCanon = canonicalize(root, inclusivePrefixes(transforms), []);
  } finally {
    root.insertBefore(signature, next);
  }
  const digest = createHash(DIGEST_HASHES.get(digestAlgorithm) as string).update(rootCanon, 'utf8').digest();
  const expected = Buffer.from((only(reference, 'DigestValue').textContent ?? '').replace(/\s+/g, ''), 'base64');
  if (digest.length !== expected.length || !timingSafeEqual(digest, expected)) throw invalid(`the metadata was modified after it was signed (the digest of the root ${what} does not match)`);
}
