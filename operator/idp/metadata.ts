// IdP metadata and certificates, parsed defensively: DTDs are refused before parsing (no
// entity expansion of any kind), every certificate must be a real X.509 certificate.
import { X509Certificate, createHash } from 'node:crypto';
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
// The one dependency-free pre-parse pass, shared with the sp-server's ACS (it lives with its first user).
import { exceededBound, type XmlBounds } from '../../xml/bounds.ts';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const ELEMENT_NODE = 1;

export class IdPConfigError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'IdPConfigError';
    this.reason = reason;
  }
}

export interface IdPDescriptor {
  entityID: string;
  ssoURL: string;
  /** PEM, normalised. */
  certificates: string[];
  /** The earliest validUntil on the way from the document's root to the IdP's EntityDescriptor. */
  validUntil?: Date;
}

/**
 * Far above one IdP's metadata (a few hundred elements; federation aggregates are not what a
 * profile points at), far below what makes xmldom or c14n stall the operator for every
 * organization (parsing costs tens of microseconds per element).
 */
export const METADATA_XML_BOUNDS: XmlBounds = { elements: 10_000, depth: 32, attributesPerElement: 64, namespaceDeclarations: 1024 };

/** Parses metadata XML into a DOM, refusing DTDs and documents over the bounds before the parser sees them. */
export function parseMetadataDocument(xml: string): Document {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw new IdPConfigError('MetadataInvalid', 'IdP metadata must not contain a DTD (<!DOCTYPE>)');
  }
  const over = exceededBound(xml, METADATA_XML_BOUNDS);
  if (over !== undefined) throw new IdPConfigError('MetadataInvalid', `IdP metadata is refused unparsed: it has ${over}`);
  const errors: string[] = [];
  let doc;
  try {
    doc = new DOMParser({
      onError: (level, msg) => {
        if (level !== 'warning') errors.push(msg);
      },
    }).parseFromString(xml, 'text/xml');
  } catch (err) {
    throw new IdPConfigError('MetadataInvalid', `IdP metadata is not well-formed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (errors.length > 0) throw new IdPConfigError('MetadataInvalid', `IdP metadata is not well-formed XML: ${errors[0]?.split('\n')[0]}`);
  return doc;
}

export function childElements(parent: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE && (n as Element).namespaceURI === ns && (n as Element).localName === localName) out.push(n as Element);
  }
  return out;
}

function validUntilOf(el: Element): Date | undefined {
  const text = el.getAttribute('validUntil');
  if (!text) return undefined;
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw new IdPConfigError('MetadataInvalid', `IdP metadata validUntil ${JSON.stringify(text)} is not a date and time`);
  return at;
}

function earlier(a: Date | undefined, b: Date | undefined): Date | undefined {
  return a === undefined ? b : b === undefined || a <= b ? a : b;
}

/**
 * The first EntityDescriptor with an IDPSSODescriptor, found through the document's structure
 * only (root, nested EntitiesDescriptors): nothing placed elsewhere (inside a ds:Signature, say)
 * is ever read.
 */
function findIdPEntity(el: Element, inheritedValidUntil?: Date): { entity: Element; validUntil?: Date } | undefined {
  const validUntil = earlier(inheritedValidUntil, validUntilOf(el));
  if (el.namespaceURI !== MD) return undefined;
  if (el.localName === 'EntityDescriptor') return childElements(el, MD, 'IDPSSODescriptor').length > 0 ? { entity: el, validUntil } : undefined;
  if (el.localName !== 'EntitiesDescriptor') return undefined;
  for (const child of [...childElements(el, MD, 'EntityDescriptor'), ...childElements(el, MD, 'EntitiesDescriptor')]) {
    const found = findIdPEntity(child, validUntil);
    if (found) return found;
  }
  return undefined;
}

export function parseIdPMetadata(xml: string): IdPDescriptor {
  return describeIdP(parseMetadataDocument(xml));
}

export function describeIdP(doc: Document): IdPDescriptor {
  const found = doc.documentElement ? findIdPEntity(doc.documentElement) : undefined;
  if (!found) throw new IdPConfigError('MetadataInvalid', 'IdP metadata has no EntityDescriptor with an IDPSSODescriptor');
  const { entity, validUntil } = found;
  const entityID = entity.getAttribute('entityID')?.trim();
  if (!entityID) throw new IdPConfigError('MetadataInvalid', 'IdP metadata EntityDescriptor has no entityID');
  const idpsso = childElements(entity, MD, 'IDPSSODescriptor')[0] as Element;
  const sso = childElements(idpsso, MD, 'SingleSignOnService').find((s) => s.getAttribute('Binding') === REDIRECT);
  const ssoURL = sso?.getAttribute('Location')?.trim();
  if (!ssoURL) throw new IdPConfigError('MetadataInvalid', 'IdP metadata has no SingleSignOnService with the HTTP-Redirect binding');
  if (!/^https?:\/\//.test(ssoURL)) throw new IdPConfigError('MetadataInvalid', `IdP SingleSignOnService Location ${JSON.stringify(ssoURL)} is not an http(s) URL`);
  const certificates: string[] = [];
  for (const kd of childElements(idpsso, MD, 'KeyDescriptor')) {
    const use = kd.getAttribute('use');
    if (use && use !== 'signing') continue;
    for (const c of Array.from(kd.getElementsByTagNameNS(DS, 'X509Certificate'))) {
      const b64 = (c.textContent ?? '').replace(/\s+/g, '');
      if (b64) certificates.push(toPem(b64));
    }
  }
  if (certificates.length === 0) throw new IdPConfigError('MetadataInvalid', 'IdP metadata has no signing certificate (KeyDescriptor use="signing")');
  return { entityID, ssoURL, certificates: [...new Set(certificates)], ...(validUntil ? { validUntil } : {}) };
}

/** Metadata past its validUntil must not be used (SAML metadata §2.2.1), however it arrived. */
export function assertNotExpired(d: IdPDescriptor, now: Date): void {
  if (d.validUntil && d.validUntil <= now) {
    throw new IdPConfigError('MetadataExpired', `the IdP metadata expired at ${d.validUntil.toISOString()} (its validUntil); the IdP must publish a current document`);
  }
}

function toPem(b64: string): string {
  return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
}

/** Splits PEM text into normalised certificate blocks. */
export function splitPem(text: string): string[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => toPem(b.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '')));
}

export interface CertificateInfo {
  fingerprintSHA256: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
}

export function parseCertificate(pem: string): CertificateInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    const digest = createHash('sha256').update(pem).digest('hex').slice(0, 12);
    throw new IdPConfigError('CertificateInvalid', `a certificate (sha256 of the text ${digest}…) cannot be parsed as X.509: ${(err as Error).message}`);
  }
  return {
    fingerprintSHA256: cert.fingerprint256,
    subject: cert.subject.replace(/\n/g, ', '),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  };
}

export interface CertificateVerdict {
  status: 'True' | 'False';
  reason: 'Valid' | 'ExpiringSoon' | 'Expired' | 'NotYetValid';
  message: string;
  /** When the verdict changes next without any input change (expiry or warning threshold). */
  nextChange?: Date;
}

/** CertificateValid: false only when no certificate is usable now; warns ahead of the last expiry. */
export function judgeCertificates(certs: readonly CertificateInfo[], warnMs: number, now: Date = new Date()): CertificateVerdict {
  const usable = certs.filter((c) => c.notBefore <= now && now < c.notAfter);
  if (usable.length === 0) {
    const future = certs.filter((c) => c.notBefore > now).sort((a, b) => a.notBefore.getTime() - b.notBefore.getTime());
    if (future.length > 0 && certs.every((c) => c.notAfter > now)) {
      return { status: 'False', reason: 'NotYetValid', message: `no IdP certificate is valid yet; the first becomes valid at ${future[0]?.notBefore.toISOString()}`, nextChange: future[0]?.notBefore };
    }
    const last = [...certs].sort((a, b) => b.notAfter.getTime() - a.notAfter.getTime())[0];
    return { status: 'False', reason: 'Expired', message: `every IdP certificate has expired (the last on ${last?.notAfter.toISOString()}); upload the IdP's current signing certificate` };
  }
  const latest = usable.reduce((a, b) => (b.notAfter > a.notAfter ? b : a));
  const warnAt = new Date(latest.notAfter.getTime() - warnMs);
  if (now >= warnAt) {
    return {
      status: 'True',
      reason: 'ExpiringSoon',
      message: `the IdP certificate ${latest.fingerprintSHA256.slice(0, 23)}… expires on ${latest.notAfter.toISOString()}; add the IdP's next certificate before then`,
      nextChange: latest.notAfter,
    };
  }
  return { status: 'True', reason: 'Valid', message: `${usable.length} valid IdP certificate(s); the latest expires on ${latest.notAfter.toISOString()}`, nextChange: warnAt };
}
