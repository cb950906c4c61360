// XML-DSig verification of an enveloped signature over the element that encloses it, with the
// profile's trusted IdP certificates and allowed algorithms only. Canonicalization is exclusive
// c14n over the one parsed tree (exc-c14n.ts); digests and signatures are node:crypto.
import { createHash, timingSafeEqual, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import type { RenderedSAMLProfile } from '../../crds/api/index.ts';
import { attr, children, childrenNamed, oneChild, text, type DocumentIndex, type Element } from './dom.ts';
import { exclusiveC14n } from './exc-c14n.ts';
import { fail, quote } from './errors.ts';
import { exceededSubtreeBound, SIGNED_INFO_BOUNDS } from './subtree-bounds.ts';
import { DIGEST_ALGORITHM_URIS, DIGEST_BY_URI, ENVELOPED, EXC_C14N, NS, SIGNATURE_ALGORITHM_URIS, SIGNATURE_BY_URI } from './uris.ts';

interface TrustedKey {
  key: KeyObject;
  /** The certificate's DER, base64 without whitespace, to match KeyInfo against. */
  der: string;
}

const trustedKeyCache = new Map<string, TrustedKey>();

function trustedKey(pem: string): TrustedKey {
  let k = trustedKeyCache.get(pem);
  if (k === undefined) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch (err) {
      fail('UNTRUSTED_CERTIFICATE', 'one of the profile\'s IdP certificates cannot be parsed: check spec.idp of the SSOProfile', err);
    }
    k = { key: cert.publicKey, der: cert.raw.toString('base64') };
    if (trustedKeyCache.size > 1000) trustedKeyCache.clear();
    trustedKeyCache.set(pem, k);
  }
  return k;
}

function inclusivePrefixes(method: Element): string[] {
  const incl = childrenNamed(method, EXC_C14N, 'InclusiveNamespaces')[0];
  if (incl === undefined) return [];
  return (attr(incl, 'PrefixList') ?? '').split(/\s+/).filter((p) => p !== '');
}

interface AllowedAlgorithms {
  signatures: Set<string>;
  digests: Set<string>;
}

/** By the list's text (a profile crosses to a worker as a copy): the subsets of a small enum, so few entries. */
const allowedByList = new Map<string, AllowedAlgorithms>();

function allowedAlgorithms(profile: RenderedSAMLProfile): AllowedAlgorithms {
  const key = profile.signatureAlgorithms.join(' ');
  let allowed = allowedByList.get(key);
  if (allowed === undefined) {
    allowed = computeAllowedAlgorithms(profile);
    allowedByList.set(key, allowed);
  }
  return allowed;
}

function computeAllowedAlgorithms(profile: RenderedSAMLProfile): AllowedAlgorithms {
  const signatures = new Set<string>();
  const digests = new Set<string>();
  for (const name of profile.signatureAlgorithms) {
    signatures.add(SIGNATURE_ALGORITHM_URIS[name]);
    const hash = name.split('-')[1];
    if (hash !== undefined) digests.add(DIGEST_ALGORITHM_URIS[hash] ?? '');
  }
  return { signatures, digests };
}

/**
 * Verifies `signature`, a direct child of `signed`, as an enveloped signature over `signed` by a
 * trusted key. Throws unless it verifies.
 */
export function verifyEnvelopedSignature(signature: Element, signed: Element, index: DocumentIndex, profile: RenderedSAMLProfile): void {
  const what = signed.localName;
  const signedInfo = oneChild(signature, NS.ds, 'SignedInfo', true, 'SIGNATURE_INVALID');
  // Before anything walks or canonicalizes it: a SignedInfo is read without any proof of origin.
  const over = exceededSubtreeBound(signedInfo, SIGNED_INFO_BOUNDS);
  if (over !== undefined) fail('SIGNED_INFO_TOO_LARGE', `the ${what} signature's SignedInfo has ${over}, far more than any IdP writes; it was not canonicalized`);
  const signatureValue = oneChild(signature, NS.ds, 'SignatureValue', true, 'SIGNATURE_INVALID');
  const allowed = allowedAlgorithms(profile);

  const c14nMethod = oneChild(signedInfo, NS.ds, 'CanonicalizationMethod', true, 'SIGNATURE_INVALID');
  const c14nAlg = attr(c14nMethod, 'Algorithm');
  if (c14nAlg !== EXC_C14N) fail('ALGORITHM_NOT_ALLOWED', `the ${what} signature uses canonicalization ${quote(c14nAlg)}, only exclusive c14n (${EXC_C14N}) is accepted`);
  const sigMethod = oneChild(signedInfo, NS.ds, 'SignatureMethod', true, 'SIGNATURE_INVALID');
  const sigAlgUri = attr(sigMethod, 'Algorithm') ?? '';
  const sigAlg = SIGNATURE_BY_URI.get(sigAlgUri);
  if (sigAlg === undefined || !allowed.signatures.has(sigAlgUri)) {
    fail('ALGORITHM_NOT_ALLOWED', `the IdP signs the ${what} with ${quote(sigAlg?.name ?? sigAlgUri)}, the profile allows ${profile.signatureAlgorithms.join(', ')}`);
  }

  // Exactly one Reference, to the element that encloses the signature, and to nothing else.
  const references = childrenNamed(signedInfo, NS.ds, 'Reference');
  if (references.length !== 1) fail('SIGNATURE_WRAPPING', `the ${what} signature has ${references.length} references where exactly one is expected`);
  const reference = references[0] as Element;
  const id = attr(signed, 'ID');
  const uri = attr(reference, 'URI');
  if (id === undefined || id === '' || uri !== `#${id}` || index.ids.get(id) !== signed) {
    fail('SIGNATURE_WRAPPING', `the ${what} signature references ${quote(uri)}, not the enclosing ${what} ${quote(id)}`);
  }
  const transforms = oneChild(reference, NS.ds, 'Transforms', false, 'SIGNATURE_INVALID');
  let enveloped = false;
  let refPrefixes: string[] = [];
  for (const t of transforms === undefined ? [] : children(transforms)) {
    const alg = attr(t, 'Algorithm');
    if (t.localName !== 'Transform' || t.namespaceURI !== NS.ds) fail('SIGNATURE_INVALID', `unexpected ${t.localName} in the ${what} signature's transforms`);
    if (alg === ENVELOPED) enveloped = true;
    else if (alg === EXC_C14N) refPrefixes = inclusivePrefixes(t);
    else fail('ALGORITHM_NOT_ALLOWED', `the ${what} signature uses transform ${quote(alg)}, only enveloped-signature and exclusive c14n are accepted`);
  }
  if (!enveloped) fail('SIGNATURE_INVALID', `the ${what} signature lacks the enveloped-signature transform`);
  const digestMethod = oneChild(reference, NS.ds, 'DigestMethod', true, 'SIGNATURE_INVALID');
  const digestUri = attr(digestMethod, 'Algorithm') ?? '';
  const digestAlg = DIGEST_BY_URI.get(digestUri);
  if (digestAlg === undefined || !allowed.digests.has(digestUri)) {
    fail('ALGORITHM_NOT_ALLOWED', `the IdP digests the ${what} with ${quote(digestAlg ?? digestUri)}, the profile allows ${profile.signatureAlgorithms.join(', ')}`);
  }
  const digestValue = Buffer.from(text(oneChild(reference, NS.ds, 'DigestValue', true, 'SIGNATURE_INVALID')).replace(/\s+/g, ''), 'base64');

  // SignedInfo first: a signature by an unknown key is reported as such, whatever it covers.
  const signedInfoCanon = Buffer.from(exclusiveC14n.canonicalize(signedInfo, { inclusivePrefixes: inclusivePrefixes(c14nMethod) }), 'utf8');
  const sigBytes = Buffer.from(text(signatureValue).replace(/\s+/g, ''), 'base64');
  const keyInfoCert = keyInfoCertificate(signature);
  const trusted = profile.idp.certificates.map(trustedKey);
  const matching = keyInfoCert === undefined ? [] : trusted.filter((k) => k.der === keyInfoCert);
  // The KeyInfo certificate only picks among trusted keys; it is never trusted by itself.
  const candidates = matching.length > 0 ? matching : trusted;
  const verified = candidates.some((k) => {
    try {
      return cryptoVerify(sigAlg.hash, signedInfoCanon, sigAlg.ec ? { key: k.key, dsaEncoding: 'ieee-p1363' } : k.key, sigBytes);
    } catch {
      return false;
    }
  });
  if (!verified) {
    if (matching.length > 0 || keyInfoCert === undefined) fail('SIGNATURE_INVALID', `the ${what} signature does not verify with the profile's IdP certificate(s)`);
    fail('UNTRUSTED_CERTIFICATE', `the IdP signs the ${what} with certificate ${fingerprint(keyInfoCert)}, which is not among the profile's ${trusted.length} IdP certificate(s): add the IdP's current signing certificate`);
  }

  // Enveloped-signature transform: the digest covers the element without this signature.
  const canon = exclusiveC14n.canonicalize(signed, { inclusivePrefixes: refPrefixes, excluded: signature });
  const digest = createHash(digestAlg).update(canon, 'utf8').digest();
  if (digest.length !== digestValue.length || !timingSafeEqual(digest, digestValue)) {
    fail('SIGNATURE_INVALID', `the ${what} was modified after the IdP signed it (digest mismatch)`);
  }
}

/** SHA-256 fingerprint of a base64 DER certificate, as IdP admin consoles display it. */
function fingerprint(derBase64: string): string {
  const hex = createHash('sha256').update(Buffer.from(derBase64, 'base64')).digest('hex').toUpperCase();
  return `SHA-256 ${hex.match(/../g)?.join(':') ?? hex}`;
}

function keyInfoCertificate(signature: Element): string | undefined {
  const keyInfo = childrenNamed(signature, NS.ds, 'KeyInfo')[0];
  if (keyInfo === undefined) return undefined;
  for (const data of childrenNamed(keyInfo, NS.ds, 'X509Data')) {
    const cert = childrenNamed(data, NS.ds, 'X509Certificate')[0];
    if (cert !== undefined) return text(cert).replace(/\s+/g, '');
  }
  return undefined;
}
