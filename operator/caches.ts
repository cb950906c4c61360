// The operator's shared list+watch caches, one informer per watched namespace (or one for the
// cluster): what every controller reads, and the only objects the operator keeps in memory.
import type { Logger } from 'pino';
import { ORGANIZATION_DISPLAY_NAME_ANNOTATION, type ManagedUser, type SSOProfile, type VerifiedDomain } from '../crds/api/index.ts';
import type { KubeClient, ResourceRef } from '../kube/client.ts';
import { Informer, type InformerControl, type KubeObject } from '../kube/informer.ts';
import type { OperatorConfig } from './config.ts';
import { KindCache, type Context, type NamespaceObject, type SecretObject } from './context.ts';
import { OIDC_CLIENT_SECRET_NAME } from './oidc/client-secret.ts';
import { SCIM_ENABLED_LABEL, SCIM_ENABLED_VALUE, SCIM_TOKEN_SECRET_NAME } from './scim-token.ts';
import { SP_KEYS_SECRET_NAME } from './sp-key-store.ts';
import { RESOURCES } from '../kube/resources.ts';
import { cachedUser } from './user-cache.ts';

export type Caches = Pick<Context, 'domains' | 'users' | 'profiles' | 'scimNamespaces' | 'displayNames' | 'scimSecrets' | 'spKeySecrets' | 'oidcClientSecrets'>;

export function openCaches(client: KubeClient, cfg: OperatorConfig, log: Logger): Caches {
  const namespaces = cfg.watchNamespaces.length > 0 ? cfg.watchNamespaces : [undefined];
  const informers = <T extends KubeObject>(ref: ResourceRef, transform?: (obj: T) => T) =>
    new KindCache<T>(namespaces.map((ns) => new Informer<T>(client, ref, { namespace: ns, resyncMs: cfg.resyncPeriod, ...(transform ? { transform } : {}) }, log)));
  return {
    domains: informers<VerifiedDomain>(RESOURCES.VerifiedDomain),
    users: informers<ManagedUser>(RESOURCES.ManagedUser, cachedUser),
    profiles: informers<SSOProfile>(RESOURCES.SSOProfile),
    ...openScimCaches(client, namespaces, cfg.resyncPeriod, log),
    // Organizations' display names for the rendered config; by name with --watch-namespaces, as RBAC grants.
    displayNames: new KindCache<NamespaceObject>(
      namespaces.map((ns) => new Informer<NamespaceObject>(client, RESOURCES.Namespace, { ...(ns ? { fieldSelector: `metadata.name=${ns}` } : {}), resyncMs: cfg.resyncPeriod, transform: displayNameOnly }, log)),
    ),
    // RBAC grants the operator organizations' Secrets by name only: list+watch by name too.
    spKeySecrets: new KindCache<SecretObject>(namespaces.map((ns) => new Informer<SecretObject>(client, RESOURCES.Secret, { namespace: ns, fieldSelector: `metadata.name=${SP_KEYS_SECRET_NAME}`, resyncMs: cfg.resyncPeriod }, log))),
    // Read only, never written: the organization owns its OIDC client secrets.
    oidcClientSecrets: new KindCache<SecretObject>(namespaces.map((ns) => new Informer<SecretObject>(client, RESOURCES.Secret, { namespace: ns, fieldSelector: `metadata.name=${OIDC_CLIENT_SECRET_NAME}`, resyncMs: cfg.resyncPeriod }, log))),
  };
}

/** The SCIM token controller's caches: labelled namespaces and their token Secrets (undefined: all namespaces). */
export function openScimCaches(client: KubeClient, namespaces: readonly (string | undefined)[], resyncMs: number, log: Logger): Pick<Caches, 'scimNamespaces' | 'scimSecrets'> {
  return {
    // Only namespaces with SCIM on are cached: the label selector makes unlabelling a delete
    // event. With --watch-namespaces, one informer per namespace by name (RBAC can then be
    // narrowed to those names).
    scimNamespaces: new KindCache<NamespaceObject>(
      namespaces.map(
        (ns) =>
          new Informer<NamespaceObject>(client, RESOURCES.Namespace, { labelSelector: `${SCIM_ENABLED_LABEL}=${SCIM_ENABLED_VALUE}`, ...(ns ? { fieldSelector: `metadata.name=${ns}` } : {}), resyncMs }, log),
      ),
    ),
    // Only the token Secrets, by name: the operator never caches organizations' other Secrets.
    scimSecrets: new KindCache<SecretObject>(namespaces.map((ns) => new Informer<SecretObject>(client, RESOURCES.Secret, { namespace: ns, fieldSelector: `metadata.name=${SCIM_TOKEN_SECRET_NAME}`, resyncMs }, log))),
  };
}

/** A namespace as the display-name cache keeps it: its name and that one annotation. */
export function displayNameOnly(ns: NamespaceObject): NamespaceObject {
  const displayName = ns.metadata.annotations?.[ORGANIZATION_DISPLAY_NAME_ANNOTATION];
  return { metadata: { name: ns.metadata.name, ...(ns.metadata.resourceVersion ? { resourceVersion: ns.metadata.resourceVersion } : {}), ...(displayName ? { annotations: { [ORGANIZATION_DISPLAY_NAME_ANNOTATION]: displayName } } : {}) } };
}

export function informersOf(caches: Caches): InformerControl[] {
  return [caches.domains, caches.users, caches.profiles, caches.scimNamespaces, caches.displayNames, caches.scimSecrets, caches.spKeySecrets, caches.oidcClientSecrets].flatMap((c) => c.informers as InformerControl[]);
}
