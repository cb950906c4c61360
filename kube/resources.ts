// The resources Gatehouse reads and writes, by kind: the custom kinds' REST coordinates come from
// their definitions in crds/api, so a path can only name a kind that exists.
import { GROUP, VERSION, managedGroupKind, managedUserKind, ssoProfileKind, verifiedDomainKind, type KindDefinition } from '../crds/api/index.ts';
import { resourcePath, type ResourceRef } from './client.ts';

const custom = (k: KindDefinition): ResourceRef => ({ group: GROUP, version: VERSION, plural: k.plural });

export const RESOURCES = {
  VerifiedDomain: custom(verifiedDomainKind),
  ManagedUser: custom(managedUserKind),
  SSOProfile: custom(ssoProfileKind),
  ManagedGroup: custom(managedGroupKind),
  Secret: { group: '', version: 'v1', plural: 'secrets' },
  Namespace: { group: '', version: 'v1', plural: 'namespaces' },
  Event: { group: '', version: 'v1', plural: 'events' },
  Lease: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' },
} as const satisfies Record<string, ResourceRef>;

export type ResourceKind = keyof typeof RESOURCES;

/** The REST path of a kind's collection (in a namespace, or across all) or of one object. */
export function pathOf(kind: ResourceKind, namespace?: string, name?: string): string {
  return resourcePath(RESOURCES[kind], namespace, name);
}
