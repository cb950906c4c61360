// The connection form: what the admin sent (urlencoded or multipart with the metadata file),
// checked field by field before the API server sees it — an https URL, a real PEM certificate,
// well-formed metadata within the size the CRD allows — and turned into spec.idp.
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { dnsName } from '../../../crds/api/index.ts';
import { IdPConfigError, parseIdPMetadata } from '../../../operator/idp/metadata.ts';
import { PROVIDER_IDS, providerOf, type ProviderID } from './providers.ts';

export const IDP_SOURCES = ['url', 'upload', 'manual'] as const;
export type IdPSource = (typeof IDP_SOURCES)[number];
/** spec.idp.metadata.xml's maxLength in the CRD. */
export const MAX_METADATA_XML_CHARS = 262_144;

/** The form as the admin filled it in, kept to render it again with their input. */
export interface ConnectionForm {
  provider: ProviderID;
  name: string;
  domains: string[];
  source: IdPSource;
  metadataURL: string;
  entityID: string;
  ssoURL: string;
  certificate: string;
}

export type FormErrors = Partial<Record<'provider' | 'name' | 'domains' | 'source' | 'metadataURL' | 'metadataFile' | 'entityID' | 'ssoURL' | 'certificate', string>>;

export type IdPSpec = { metadata: { url: string } | { xml: string } } | { entityID: string; ssoURL: string; certificates: string[] };

const text = (v: unknown, max = 20_000): string => (typeof v === 'string' ? v.slice(0, max) : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

/** Reads the posted fields; the uploaded metadata file, when there is one, comes back separately. */
export function readConnectionForm(body: unknown): { form: ConnectionForm; file: Buffer | undefined } {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const provider = providerOf(text(b.provider))?.id ?? 'saml';
  const source = (IDP_SOURCES as readonly string[]).includes(text(b.source)) ? (text(b.source) as IdPSource) : 'url';
  const file = Buffer.isBuffer(b.metadataFile) && b.metadataFile.length > 0 ? b.metadataFile : undefined;
  return {
    form: {
      provider,
      name: text(b.name, 253).trim().toLowerCase(),
      domains: list(b.domains).map((d) => d.trim().toLowerCase()),
      source,
      metadataURL: text(b.metadataURL, 4096).trim(),
      entityID: text(b.entityID, 4096).trim(),
      ssoURL: text(b.ssoURL, 4096).trim(),
      certificate: text(b.certificate, 40_000).trim(),
    },
    file,
  };
}

const connectionName = z
  .string()
  .min(1, 'Enter a name for the connection.')
  .max(63, 'At most 63 characters.')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'Use lower-case letters, digits and hyphens (a DNS label), e.g. okta.')
  .refine((n) => n !== 'new', 'This name is reserved; choose another.');

function urlSchema(allowHttp: boolean, what: string) {
  return z
    .string()
    .min(1, `Enter the ${what}.`)
    .max(2048, 'At most 2048 characters.')
    .pipe(z.url({ message: `Enter a full URL, e.g. https://idp.example.com/…` }))
    .refine((u) => /^https:\/\//i.test(u) || (allowHttp && /^http:\/\//i.test(u)), 'Use an https:// URL: Gatehouse does not fetch or trust IdP endpoints over plain http.');
}

/** One PEM certificate that node:crypto parses, normalised to its canonical PEM. */
export function pemCertificateProblem(pem: string): string | undefined {
  if (!pem) return 'Paste the IdP\'s signing certificate.';
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return 'This is not a PEM certificate: paste the text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.';
  if (blocks.length > 1) return 'Paste one certificate.';
  try {
    new X509Certificate(blocks[0] ?? '');
  } catch {
    return 'This is not a PEM certificate: its contents could not be read as an X.509 certificate.';
  }
  return undefined;
}

function metadataFileProblem(file: Buffer | undefined): string | undefined {
  if (!file) return 'Choose the metadata XML file your identity provider gave you.';
  const xml = file.toString('utf8');
  if (xml.length > MAX_METADATA_XML_CHARS) return `The file is too large: IdP metadata may be at most ${MAX_METADATA_XML_CHARS / 1024} KiB.`;
  try {
    parseIdPMetadata(xml);
  } catch (err) {
    if (err instanceof IdPConfigError) return `This metadata cannot be used: ${err.message}.`;
    return 'This file could not be read as IdP metadata XML.';
  }
  return undefined;
}

/** Checks the form; the spec to apply when nothing is wrong. */
export function validateConnection(form: ConnectionForm, file: Buffer | undefined, o: { allowInsecureURLs: boolean; organizationDomains: readonly string[] }): { errors: FormErrors; idp?: IdPSpec } {
  const errors: FormErrors = {};
  if (!(PROVIDER_IDS as readonly string[]).includes(form.provider)) errors.provider = 'Choose your identity provider.';
  const name = connectionName.safeParse(form.name);
  if (!name.success) errors.name = name.error.issues[0]?.message;
  if (form.domains.length === 0) errors.domains = 'Choose at least one domain whose users sign in through this connection.';
  else if (form.domains.some((d) => !dnsName.safeParse(d).success || !o.organizationDomains.includes(d))) errors.domains = 'Choose only domains of this organization.';
  let idp: IdPSpec | undefined;
  if (form.source === 'url') {
    const url = urlSchema(o.allowInsecureURLs, 'IdP metadata URL').safeParse(form.metadataURL);
    if (url.success) idp = { metadata: { url: url.data } };
    else errors.metadataURL = url.error.issues[0]?.message;
  } else if (form.source === 'upload') {
    const problem = metadataFileProblem(file);
    if (problem) errors.metadataFile = problem;
    else idp = { metadata: { xml: file?.toString('utf8') ?? '' } };
  } else {
    if (!form.entityID) errors.entityID = 'Enter the IdP entity ID (Issuer).';
    else if (form.entityID.length > 1024) errors.entityID = 'At most 1024 characters.';
    const sso = urlSchema(o.allowInsecureURLs, 'SSO URL').safeParse(form.ssoURL);
    if (!sso.success) errors.ssoURL = sso.error.issues[0]?.message;
    const cert = pemCertificateProblem(form.certificate);
    if (cert) errors.certificate = cert;
    if (!errors.entityID && sso.success && !cert) idp = { entityID: form.entityID, ssoURL: sso.data, certificates: [form.certificate] };
  }
  return Object.keys(errors).length === 0 && idp ? { errors, idp } : { errors };
}

/** Where the API server's field paths land on the form. */
export const API_FIELD_MAP: Readonly<Record<string, string>> = {
  'metadata.name': 'name',
  'spec.idp.metadata.url': 'metadataURL',
  'spec.idp.metadata.xml': 'metadataFile',
  'spec.idp.metadata': 'source',
  'spec.idp.entityID': 'entityID',
  'spec.idp.ssoURL': 'ssoURL',
  'spec.idp.certificates': 'certificate',
  'spec.idp': 'source',
  'spec.domains': 'domains',
  spec: 'source',
};
