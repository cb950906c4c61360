// The OIDC demo organization of the local system (`make run` and the OIDC browser tests):
// northwind, with northwind.com on a Google-shaped, northwind.eu on an Entra-shaped and
// northwind.io on a generic OpenID Provider (panva's oidc-provider on loopback; the generic one
// authenticates Gatehouse by private_key_jwt), its users — some of whom the providers describe in
// ways Gatehouse must refuse — and one SSOProfile per provider, created the way an admin would.
import type { LocalSystem } from './local-system.ts';
import { loginMethodsOf } from './login-driver.ts';
import { ENTRA_TEST_TENANT, startOIDCUpstream, type OIDCUpstream } from './oidc-upstream.ts';
import { waitFor } from './wait.ts';
import { DEMO_CLIENT_ID } from './local-system.ts';

export const OIDC_ORGANIZATION = 'northwind';
export const GOOGLE_DOMAIN = 'northwind.com';
export const ENTRA_DOMAIN = 'northwind.eu';
export const GENERIC_DOMAIN = 'northwind.io';
const DOMAINS = [GOOGLE_DOMAIN, ENTRA_DOMAIN, GENERIC_DOMAIN];
/** A tenant other than the profile's: its tokens are refused. */
export const OTHER_TENANT = '0b7c3a52-1e9d-4f60-8a2b-5c4d3e2f1a09';
/** A Workspace domain other than the user's. */
export const OTHER_HOSTED_DOMAIN = 'northwind-partners.com';
const GOOGLE_CLIENT = { id: 'northwind-google.apps.example', secret: 'google-client-secret-0123456789' };
const ENTRA_CLIENT = { id: '6c1f9a2e-7b3d-4e5f-8a9b-0c1d2e3f4a5b', secret: 'entra-client-secret-0123456789' };
const GENERIC_CLIENT_ID = 'gatehouse';
export type OIDCProfileName = 'google' | 'entra' | 'generic';

/** northwind's ManagedUsers; the comments say how the providers describe them. */
export const OIDC_PEOPLE = {
  ann: `ann@${GOOGLE_DOMAIN}`, // tests the Google profile's connection
  ben: `ben@${GOOGLE_DOMAIN}`,
  pat: `pat@${GOOGLE_DOMAIN}`, // a personal Google account on a company address: no hd
  hal: `hal@${GOOGLE_DOMAIN}`, // a Workspace account of another domain
  una: `una@${GOOGLE_DOMAIN}`, // an address the provider has not verified
  eva: `eva@${ENTRA_DOMAIN}`, // in the Finance group; vouched for by xms_edov, as Entra does
  tom: `tom@${ENTRA_DOMAIN}`, // signed in by another Entra tenant
  gil: `gil@${GENERIC_DOMAIN}`,
} as const;

export interface OIDCOrganization {
  google: OIDCUpstream;
  entra: OIDCUpstream;
  generic: OIDCUpstream;
  /** The redirect URI of a northwind profile (status.sp.redirectURI). */
  callbackURL(profile: OIDCProfileName): string;
  close(): Promise<void>;
}

function organizationDocuments(google: OIDCUpstream, entra: OIDCUpstream, generic: OIDCUpstream): string {
  const ns = OIDC_ORGANIZATION;
  const ssoProfile = (name: string, spec: object) => ({ apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'SSOProfile', metadata: { name, namespace: ns }, spec });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'sso.gatehouse.dev/organization': 'true' } } },
    ...DOMAINS.map((domain) => ({ apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'VerifiedDomain', metadata: { name: domain.replace(/\./g, '-'), namespace: ns }, spec: { domain } })),
    ...Object.entries(OIDC_PEOPLE).map(([name, email]) => ({ apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'ManagedUser', metadata: { name, namespace: ns }, spec: { email } })),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gatehouse-oidc-client', namespace: ns }, stringData: { google: GOOGLE_CLIENT.secret, entra: ENTRA_CLIENT.secret } },
    ssoProfile('google', {
      displayName: 'Google Workspace',
      domains: [GOOGLE_DOMAIN],
      // A Google profile names another issuer only to point at a stand-in: here, the local one.
      oidc: { provider: 'Google', issuer: google.issuer, clientID: GOOGLE_CLIENT.id, clientSecretRef: { name: 'gatehouse-oidc-client', key: 'google' } },
      test: { email: OIDC_PEOPLE.ann },
    }),
    ssoProfile('entra', {
      displayName: 'Microsoft Entra ID',
      domains: [ENTRA_DOMAIN],
      oidc: {
        provider: 'Microsoft',
        issuer: entra.issuer,
        tenantID: ENTRA_TEST_TENANT,
        clientID: ENTRA_CLIENT.id,
        clientAuthentication: 'client_secret_post',
        clientSecretRef: { name: 'gatehouse-oidc-client', key: 'entra' },
      },
      roleMapping: { attribute: 'groups', rules: [{ value: 'Finance', roles: ['billing:read'] }] },
    }),
    ssoProfile('generic', {
      displayName: 'Northwind ID',
      domains: [GENERIC_DOMAIN],
      oidc: { provider: 'Generic', issuer: generic.issuer, clientID: GENERIC_CLIENT_ID, clientAuthentication: 'private_key_jwt' },
    }),
  ]
    .map((doc) => JSON.stringify(doc))
    .join('\n---\n');
}

async function ok(system: LocalSystem, args: string[], stdin?: string): Promise<string> {
  const res = await system.kubectl(args, stdin);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

/**
 * Starts the two providers (registering the profiles' redirect URIs as their clients'), creates
 * northwind, publishes its domains' TXT records, and waits until the sp-server offers SSO to both
 * domains. The system's operator must allow private and plain-http issuers, its sp-server private
 * provider addresses.
 */
export async function startOIDCOrganization(system: LocalSystem): Promise<OIDCOrganization> {
  const ns = OIDC_ORGANIZATION;
  const callbackURL = (profile: OIDCProfileName) => `${system.spURL}/oidc/${ns}/${profile}/callback`;
  const [google, entra, generic] = await Promise.all([
    startOIDCUpstream({
      shape: 'google',
      clients: [{ client_id: GOOGLE_CLIENT.id, client_secret: GOOGLE_CLIENT.secret, redirect_uris: [callbackURL('google')], token_endpoint_auth_method: 'client_secret_basic' }],
    }),
    startOIDCUpstream({
      shape: 'entra',
      tenantID: ENTRA_TEST_TENANT,
      clients: [{ client_id: ENTRA_CLIENT.id, client_secret: ENTRA_CLIENT.secret, redirect_uris: [callbackURL('entra')], token_endpoint_auth_method: 'client_secret_post' }],
    }),
    startOIDCUpstream({
      shape: 'generic',
      // No shared secret: the provider fetches the profile's public key from status.sp.jwksURL.
      clients: [{ client_id: GENERIC_CLIENT_ID, redirect_uris: [callbackURL('generic')], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${system.spURL}/oidc/${ns}/generic/jwks` }],
    }),
  ]);
  const close = async () => {
    await Promise.all([google.close(), entra.close(), generic.close()]);
  };
  try {
    google.accounts.set(OIDC_PEOPLE.pat, { email: OIDC_PEOPLE.pat, hd: null });
    google.accounts.set(OIDC_PEOPLE.hal, { email: OIDC_PEOPLE.hal, hd: OTHER_HOSTED_DOMAIN });
    google.accounts.set(OIDC_PEOPLE.una, { email: OIDC_PEOPLE.una, email_verified: false });
    // As Entra sends it: no email_verified, the optional claim xms_edov instead.
    entra.accounts.set(OIDC_PEOPLE.eva, { email: OIDC_PEOPLE.eva, email_verified: undefined, xms_edov: true, name: 'Eva', groups: ['Finance'] });
    entra.accounts.set(OIDC_PEOPLE.tom, { email: OIDC_PEOPLE.tom, tid: OTHER_TENANT });

    await ok(system, ['apply', '--server-side', '-f', '-'], organizationDocuments(google, entra, generic));
    for (const domain of DOMAINS) {
      const name = domain.replace(/\./g, '-');
      const [recordName, value] = await waitFor(`${domain} verification token`, async () => {
        const out = (await ok(system, ['get', 'verifieddomain', name, '-n', ns, '-o', 'jsonpath={.status.verification.recordName} {.status.verification.recordValue}'])).trim().split(' ');
        return out[0] && out[1] ? out : undefined;
      }, 60_000);
      await system.dns.setTxt(recordName!, [value!]);
    }
    await ok(system, ['wait', '--for=condition=Verified', '--timeout=60s', 'verifieddomain', '--all', '-n', ns]);
    for (const profile of ['google', 'entra', 'generic']) {
      const wait = await system.kubectl(['wait', '--for=condition=IdPConfigValid', '--timeout=90s', `ssoprofile/${profile}`, '-n', ns]);
      if (wait.code !== 0) {
        const conditions = (await system.kubectl(['get', 'ssoprofile', profile, '-n', ns, '-o', 'jsonpath={.status.conditions}'])).stdout;
        throw new Error(`ssoprofile ${profile}: ${wait.stderr}\nconditions: ${conditions}\noperator log:\n${system.operator.logText(30)}`);
      }
    }
    // The sp-server has the rendered profiles once login-methods offers SSO in every domain.
    for (const email of [OIDC_PEOPLE.ann, OIDC_PEOPLE.eva, OIDC_PEOPLE.gil]) {
      await waitFor(`SSO offered to ${email}`, async () => (await loginMethodsOf(system.spURL, email, { id: DEMO_CLIENT_ID })).methods.includes('sso'), 60_000);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { google, entra, generic, callbackURL, close };
}
