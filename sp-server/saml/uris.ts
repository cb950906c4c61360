// The URIs SAML, XML-DSig and XML-Enc name things by, and the tables from the SSOProfile API's
// names to them: one place for the validator, the documents Gatehouse writes and the test IdP.
import type { RenderedProfile, SignatureAlgorithm } from '../../crds/api/index.ts';

export const NS = {
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

export const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
export const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export const BINDING_HTTP_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
export const BINDING_HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

export const NAMEID_FORMAT_URIS: Record<RenderedProfile['nameIDFormat'], string> = {
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
};

/** XML-DSig algorithm URIs by the names the SSOProfile API uses. */
export const SIGNATURE_ALGORITHM_URIS: Record<SignatureAlgorithm, string> = {
  'rsa-sha1': 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  'rsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'rsa-sha384': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'rsa-sha512': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'ecdsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  'ecdsa-sha384': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  'ecdsa-sha512': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
};
export const DIGEST_ALGORITHM_URIS: Record<string, string> = {
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha384: 'http://www.w3.org/2001/04/xmldsig-more#sha384',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
};

export interface SignatureAlgorithmInfo {
  name: SignatureAlgorithm;
  /** The node:crypto hash name. */
  hash: string;
  /** ECDSA signatures are r||s (IEEE P1363) in XML-DSig, not DER. */
  ec: boolean;
}

export const SIGNATURE_BY_URI: ReadonlyMap<string, SignatureAlgorithmInfo> = new Map(
  Object.entries(SIGNATURE_ALGORITHM_URIS).map(([name, uri]) => {
    const [family, hash] = name.split('-') as [string, string];
    return [uri, { name: name as SignatureAlgorithm, hash, ec: family === 'ecdsa' }] as const;
  }),
);
export const DIGEST_BY_URI: ReadonlyMap<string, string> = new Map(Object.entries(DIGEST_ALGORITHM_URIS).map(([hash, uri]) => [uri, hash] as const));

/**
 * Only RSA-OAEP key transport and AES content encryption: RSA PKCS#1 v1.5 and 3DES are refused
 * (both are decryption-oracle material).
 */
export const DECRYPTION_ALGORITHM_URIS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
  'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
]);
