// What the SSOProfile steps share while reconciling one profile: the inputs, the status being
// built (seeded with the published one, so a step that does not run leaves its fields as they
// were) and the facts one step hands to a later one.
import type { OIDCClientAuthentication, SSOProfile, SSOProfileStatus } from '../../../crds/api/index.ts';
import type { Context } from '../../context.ts';
import type { CertificateInfo, IdPDescriptor } from '../../idp/metadata.ts';
import type { ProviderSnapshot } from '../../oidc/discovery.ts';
import { organizationOf, type Organization } from '../../organization.ts';
import { ConditionBook } from '../steps.ts';
import type { SPKeys } from '../../sp-keys.ts';

export interface ProfileReconcile {
  ctx: Context;
  profile: SSOProfile;
  org: Organization;
  now: Date;
  /** The published status (the sp-server's status.test fields included). */
  old: SSOProfileStatus;
  /** The operator's status fields as they will be written. */
  status: SSOProfileStatus;
  conditions: ConditionBook;
  /** Set by the IdP step when the IdP resolved (certificates stays empty when one does not parse). */
  idp?: { descriptor: IdPDescriptor; certificates: CertificateInfo[] };
  /** Set by the IdP step when an OIDC profile's provider is accepted (possibly a stale copy). */
  oidc?: ProviderSnapshot;
  /** Set by the client secret step: the secret to render (the one read now, or the last one read), absent for private_key_jwt. */
  clientSecret?: string;
  /** Set by the IdP step while a metadata URL is still being fetched for the first time. */
  idpPending: boolean;
  /** Set by the domains step: the domains this profile serves, sorted. */
  served: string[];
  /** Set by the SP key step. */
  keys: Partial<SPKeys>;
}

export function spEndpoints(publicUrl: string, namespace: string, name: string) {
  const entityID = `${publicUrl}/saml/${namespace}/${name}/metadata`;
  return { entityID, acsURL: `${publicUrl}/saml/${namespace}/${name}/acs`, metadataURL: entityID };
}

/** Where an OIDC profile's provider sends the browser back, and (private_key_jwt) where its public key is served. */
export function oidcEndpoints(publicUrl: string, namespace: string, name: string, clientAuthentication: OIDCClientAuthentication | undefined) {
  const base = `${publicUrl}/oidc/${namespace}/${name}`;
  return { redirectURI: `${base}/callback`, ...(clientAuthentication === 'private_key_jwt' ? { jwksURL: `${base}/jwks` } : {}) };
}

/** The endpoints status.sp shows: the SAML ones, or an OIDC profile's. */
export function statusEndpoints(publicUrl: string, p: SSOProfile): NonNullable<SSOProfileStatus['sp']> {
  const { namespace, name } = p.metadata;
  return p.spec.oidc ? oidcEndpoints(publicUrl, namespace, name, p.spec.oidc.clientAuthentication) : spEndpoints(publicUrl, namespace, name);
}

/** The fields of status.test the operator writes (the link, its expiry, the last passed test); the sp-server owns the rest. */
export function operatorTestFields(test: SSOProfileStatus['test']): SSOProfileStatus['test'] {
  const mine = {
    ...(test?.url ? { url: test.url, ...(test.expiresAt ? { expiresAt: test.expiresAt } : {}) } : {}),
    ...(test?.lastPassed ? { lastPassed: test.lastPassed } : {}),
  };
  return Object.keys(mine).length > 0 ? mine : undefined;
}

export function startReconcile(ctx: Context, profile: SSOProfile, now = new Date()): ProfileReconcile {
  const old = profile.status ?? {};
  return {
    ctx,
    profile,
    org: organizationOf(ctx, profile.metadata.namespace),
    now,
    old,
    status: { observedGeneration: old.observedGeneration, sp: old.sp, idp: old.idp, oidc: old.oidc, test: operatorTestFields(old.test), enforcement: old.enforcement },
    conditions: new ConditionBook(old.conditions),
    idpPending: false,
    served: [],
    keys: {},
  };
}
