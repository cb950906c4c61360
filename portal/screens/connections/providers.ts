// The SAML identity providers an admin picks from, each with the few steps in its own admin
// console: where to create the app, which Gatehouse value goes into which of its fields, and
// that the NameID must be the user's email address.
import { html, type SafeHtml } from '../../../ui/html.ts';

export const PROVIDER_IDS = ['okta', 'entra', 'google', 'adfs', 'saml'] as const;
export type ProviderID = (typeof PROVIDER_IDS)[number];

/** The SP values as they will be once the connection exists (the operator publishes the same in status.sp). */
export interface SPValues {
  entityID: string;
  acsURL: string;
  metadataURL: string;
}

/** The sp-server's SAML endpoints of a connection; the operator derives status.sp the same way. */
export function expectedSPValues(spServerURL: string, namespace: string, name: string): SPValues {
  const metadataURL = `${spServerURL}/saml/${namespace}/${name}/metadata`;
  return { entityID: metadataURL, acsURL: `${spServerURL}/saml/${namespace}/${name}/acs`, metadataURL };
}

export interface Provider {
  id: ProviderID;
  label: string;
  /** The connection's default object name. */
  defaultName: string;
  /** Which IdP configuration the provider usually hands out. */
  defaultSource: 'url' | 'upload' | 'manual';
  steps(sp: SPValues | undefined): SafeHtml;
}

const value = (sp: SPValues | undefined, key: keyof SPValues, words: string) => (sp ? html`<code>${sp[key]}</code>` : html`the ${words} shown on the connection's page`);

export const PROVIDERS: readonly Provider[] = [
  {
    id: 'okta',
    label: 'Okta',
    defaultName: 'okta',
    defaultSource: 'url',
    steps: (sp) => html`<ol>
      <li>In the Okta Admin Console: <em>Applications → Applications → Create App Integration → SAML 2.0</em>.</li>
      <li><em>Single sign-on URL</em>: ${value(sp, 'acsURL', 'ACS URL')} (keep “Use this for Recipient URL and Destination URL” ticked). <em>Audience URI (SP Entity ID)</em>: ${value(sp, 'entityID', 'SP entity ID')}.</li>
      <li><em>Name ID format</em>: EmailAddress; <em>Application username</em>: Email.</li>
      <li>Assign the app to your users, then copy the <em>Metadata URL</em> from the app's <em>Sign On</em> tab into “IdP metadata URL” below.</li>
    </ol>`,
  },
  {
    id: 'entra',
    label: 'Microsoft Entra ID',
    defaultName: 'entra',
    defaultSource: 'url',
    steps: (sp) => html`<ol>
      <li>In the Microsoft Entra admin center: <em>Enterprise applications → New application → Create your own application</em> (“Integrate any other application you don't find in the gallery”), then <em>Single sign-on → SAML</em>.</li>
      <li><em>Basic SAML Configuration</em>: <em>Identifier (Entity ID)</em> ${value(sp, 'entityID', 'SP entity ID')}, <em>Reply URL (Assertion Consumer Service URL)</em> ${value(sp, 'acsURL', 'ACS URL')}.</li>
      <li><em>Attributes &amp; Claims</em>: <em>Unique User Identifier (Name ID)</em> = <code>user.mail</code>, format Email address.</li>
      <li>Assign users and groups, then copy the <em>App Federation Metadata Url</em> (<em>SAML Certificates</em>) into “IdP metadata URL” below.</li>
    </ol>`,
  },
  {
    id: 'google',
    label: 'Google Workspace',
    defaultName: 'google',
    defaultSource: 'upload',
    steps: (sp) => html`<ol>
      <li>In the Google Admin console: <em>Apps → Web and mobile apps → Add app → Add custom SAML app</em>.</li>
      <li>On <em>Google Identity Provider details</em>, <em>Download metadata</em> (Google publishes no metadata URL) and upload the file below.</li>
      <li><em>Service provider details</em>: <em>ACS URL</em> ${value(sp, 'acsURL', 'ACS URL')}, <em>Entity ID</em> ${value(sp, 'entityID', 'SP entity ID')}; <em>Name ID format</em> EMAIL, <em>Name ID</em> Basic Information › Primary email.</li>
      <li>Turn the app on for your users under <em>User access</em>.</li>
    </ol>`,
  },
  {
    id: 'adfs',
    label: 'ADFS',
    defaultName: 'adfs',
    defaultSource: 'url',
    steps: (sp) => html`<ol>
      <li>In AD FS Management: <em>Relying Party Trusts → Add Relying Party Trust</em> (Claims aware), and import the relying party's data from ${value(sp, 'metadataURL', 'SP metadata URL')} — or enter it manually: identifier ${value(sp, 'entityID', 'SP entity ID')}, SAML 2.0 WebSSO URL ${value(sp, 'acsURL', 'ACS URL')}.</li>
      <li><em>Edit Claim Issuance Policy</em>: a “Send LDAP Attributes as Claims” rule mapping <em>E-Mail-Addresses</em> to <em>E-Mail Address</em>, then a “Transform an Incoming Claim” rule from <em>E-Mail Address</em> to <em>Name ID</em>, format Email.</li>
      <li>Paste your federation metadata URL below: <code>https://&lt;your AD FS host&gt;/FederationMetadata/2007-06/FederationMetadata.xml</code>.</li>
    </ol>`,
  },
  {
    id: 'saml',
    label: 'Custom SAML',
    defaultName: 'saml',
    defaultSource: 'manual',
    steps: (sp) => html`<ol>
      <li>In your SAML 2.0 identity provider, add a service provider with entity ID ${value(sp, 'entityID', 'SP entity ID')} and Assertion Consumer Service URL ${value(sp, 'acsURL', 'ACS URL')} (HTTP-POST binding); or load ${value(sp, 'metadataURL', 'SP metadata URL')}.</li>
      <li>Send the user's email address as the NameID (format emailAddress) and sign the response or the assertion.</li>
      <li>Give Gatehouse the IdP's metadata URL or file, or its entity ID, SSO URL (HTTP-Redirect binding) and signing certificate.</li>
    </ol>`,
  },
];

export function providerOf(id: string | undefined): Provider | undefined {
  return PROVIDERS.find((p) => p.id === id);
}

/** The provider a connection was created for: its display name when it is one of ours. */
export function providerByLabel(label: string | undefined): Provider | undefined {
  return PROVIDERS.find((p) => p.label === label);
}
