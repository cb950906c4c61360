// What the operator accepts as an IdP's metadata, however it arrived: within the XML bounds,
// well-formed, signed by the pinned certificate when the profile names one, and not past its
// validUntil. A fetched document that fails is refused whole; the last accepted one stays in use.
import { verifyMetadataSignature } from './metadata-signature.ts';
import { assertNotExpired, describeIdP, parseMetadataDocument, type IdPDescriptor } from './metadata.ts';

export interface MetadataTrust {
  /** spec.idp.metadata.signingCertificate: when set, the metadata must be signed with it. */
  signingCertificate?: string;
}

/** The IdP the metadata describes; throws IdPConfigError with the reason it is refused. */
export function acceptMetadata(xml: string, trust: MetadataTrust, now: Date): IdPDescriptor {
  const doc = parseMetadataDocument(xml);
  if (trust.signingCertificate !== undefined) verifyMetadataSignature(doc, trust.signingCertificate);
  const descriptor = describeIdP(doc);
  assertNotExpired(descriptor, now);
  return descriptor;
}
