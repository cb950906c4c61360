// The three kinds, with what the CRD needs beyond the schema: names, short names and the
// printer columns an admin wants in `kubectl get`.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { z } from 'zod';
import { API_VERSION } from './common.ts';
import { managedGroupSpec, managedGroupStatus, type ManagedGroupSpec, type ManagedGroupStatus } from './managed-group.ts';
import { managedUserSpec, managedUserStatus, type ManagedUserSpec, type ManagedUserStatus } from './managed-user.ts';
import { ssoProfileSpec, ssoProfileStatus, type SSOProfileSpec, type SSOProfileStatus } from './sso-profile.ts';
import { verifiedDomainSpec, verifiedDomainStatus, type VerifiedDomainSpec, type VerifiedDomainStatus } from './verified-domain.ts';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  spec: z.ZodType;
  status: z.ZodType;
  description: string;
  printerColumns: PrinterColumn[];
}

const condition = (type: string) => `.status.conditions[?(@.type=="${type}")].status`;
const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const verifiedDomainKind = {
  kind: 'VerifiedDomain',
  plural: 'verifieddomains',
  singular: 'verifieddomain',
  shortNames: ['vd'],
  spec: verifiedDomainSpec,
  status: verifiedDomainStatus,
  description: 'An email domain the organization (namespace) proves it owns through a DNS TXT record.',
  printerColumns: [
    { name: 'Domain', type: 'string', jsonPath: '.spec.domain' },
    { name: 'Verified', type: 'string', jsonPath: condition('Verified') },
    { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Verified")].reason' },
    { name: 'Record', type: 'string', jsonPath: '.status.verification.recordName', priority: 1 },
    age,
  ],
} satisfies KindDefinition;

export const managedUserKind = {
  kind: 'ManagedUser',
  plural: 'managedusers',
  singular: 'manageduser',
  shortNames: ['mu'],
  spec: managedUserSpec,
  status: managedUserStatus,
  description: 'A user of the organization, with the operator\'s decision on whether SSO is enforced for them.',
  printerColumns: [
    { name: 'Email', type: 'string', jsonPath: '.spec.email' },
    { name: 'Active', type: 'boolean', jsonPath: '.spec.active' },
    { name: 'SSO', type: 'string', jsonPath: '.spec.sso', description: 'Per-user override' },
    { name: 'Enforced', type: 'boolean', jsonPath: '.status.sso.enforced' },
    { name: 'Profile', type: 'string', jsonPath: '.status.sso.profile' },
    { name: 'Reason', type: 'string', jsonPath: '.status.sso.reason', priority: 1 },
    age,
  ],
} satisfies KindDefinition;

export const ssoProfileKind = {
  kind: 'SSOProfile',
  plural: 'ssoprofiles',
  singular: 'ssoprofile',
  shortNames: ['ssop'],
  spec: ssoProfileSpec,
  status: ssoProfileStatus,
  description: 'An identity provider connection of the organization (SAML 2.0 or OpenID Connect), its test and its enforcement.',
  printerColumns: [
    { name: 'IdP', type: 'string', jsonPath: '.status.idp.entityID', description: 'The SAML IdP (entityID)' },
    { name: 'Issuer', type: 'string', jsonPath: '.status.oidc.issuer', description: 'The OpenID Provider (issuer)' },
    { name: 'Tested', type: 'string', jsonPath: '.status.test.result' },
    { name: 'Enforcement', type: 'string', jsonPath: '.status.enforcement.phase' },
    { name: 'Enforced', type: 'integer', jsonPath: '.status.enforcement.enforcedUsers', priority: 1 },
    { name: 'Ready', type: 'string', jsonPath: condition('Ready') },
    age,
  ],
} satisfies KindDefinition;

export const managedGroupKind = {
  kind: 'ManagedGroup',
  plural: 'managedgroups',
  singular: 'managedgroup',
  shortNames: ['mg'],
  spec: managedGroupSpec,
  status: managedGroupStatus,
  description: 'A group of the organization\'s managed users (provisioned through SCIM); its display name feeds role mapping.',
  printerColumns: [
    { name: 'Display Name', type: 'string', jsonPath: '.spec.displayName' },
    { name: 'External ID', type: 'string', jsonPath: '.spec.externalId', priority: 1 },
    age,
  ],
} satisfies KindDefinition;

export const KINDS: readonly KindDefinition[] = [verifiedDomainKind, managedUserKind, ssoProfileKind, managedGroupKind];

/** A custom resource as read from the API server. Status is absent until the operator writes it. */
export interface Resource<Kind extends string, Spec, Status> {
  apiVersion: typeof API_VERSION;
  kind: Kind;
  metadata: V1ObjectMeta & { name: string; namespace: string };
  spec: Spec;
  status?: Status;
}

export type VerifiedDomain = Resource<'VerifiedDomain', VerifiedDomainSpec, VerifiedDomainStatus>;
export type ManagedUser = Resource<'ManagedUser', ManagedUserSpec, ManagedUserStatus>;
export type SSOProfile = Resource<'SSOProfile', SSOProfileSpec, SSOProfileStatus>;
export type ManagedGroup = Resource<'ManagedGroup', ManagedGroupSpec, ManagedGroupStatus>;
