// The SP's own key pair (signs AuthnRequests, decrypts encrypted assertions): RSA 2048 with a
// self-signed certificate, generated once per SSOProfile; kept with the profile's test link.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface SPKeyPair {
  privateKeyPem: string;
  certificatePem: string;
}

export function generateSPKeyPair(commonName: string, validYears = 10, now = new Date()): SPKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  // A positive serial: the leading byte keeps the high bit clear.
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + validYears * 365 * 86_400_000);
  const attrs = [{ name: 'commonName', value: commonName.slice(0, 64) }, { name: 'organizationName', value: 'Gatehouse SP' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKeyPem), forge.md.sha256.create());
  return { privateKeyPem, certificatePem: forge.pki.certificateToPem(cert) };
}

/** The test link as kept in the Secret: which address it is for, until when, and which renewal request it answered. */
export interface TestLink {
  token: string;
  email: string;
  expiresAt: string;
  /** The value of the renew annotation this link was issued for (absent: issued without one). */
  renewal?: string;
}

export interface SPKeys {
  pair: SPKeyPair;
  test?: TestLink;
}
