// What every reconciler gets: the caches, the API client, the queue and the settings.
import type { Resolver } from 'node:dns/promises';
import type { Logger } from 'pino';
import type { DomainEnforcement, ManagedUser, RenderedProfile, SSOProfile, VerifiedDomain } from '../crds/api/index.ts';
import { API_VERSION } from '../crds/api/index.ts';
import type { OperatorConfig } from './config.ts';
import type { EventRecorder } from './events.ts';
import type { MetadataCache } from './idp/fetcher.ts';
import type { RememberedSecret } from './oidc/client-secret.ts';
import type { OIDCProviderCache } from './oidc/provider-cache.ts';
import type { KubeClient } from '../kube/client.ts';
import { pathOf } from '../kube/resources.ts';
import { Informer, type InformerHandler, type KubeObject } from '../kube/informer.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { ObjectKind, QueueKey } from './queue-key.ts';
import type { SPKeys } from './sp-keys.ts';

export const FIELD_MANAGER = 'gatehouse-operator';



/** A Namespace as the operator caches it (only those labelled for SCIM). */
export type NamespaceObject = KubeObject;
/** A Secret as the operator caches it (only its own Secrets, by name). */
export interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** One kind's cache over one or several informers (one per watched namespace), indexed by namespace. */
export class KindCache<T extends KubeObject> {
  readonly informers: Informer<T>[];
  private readonly byNamespace = new Map<string, Map<string, T>>();

  constructor(informers: Informer<T>[]) {
    this.informers = informers;
    for (const inf of informers) {
      inf.on((event, obj) => {
        const ns = obj.metadata.namespace ?? '';
        if (event === 'delete') {
          const m = this.byNamespace.get(ns);
          m?.delete(obj.metadata.name);
          if (m?.size === 0) this.byNamespace.delete(ns);
        } else {
          let m = this.byNamespace.get(ns);
          if (!m) this.byNamespace.set(ns, (m = new Map()));
          m.set(obj.metadata.name, obj);
        }
      });
    }
  }

  on(handler: InformerHandler<T>): void {
    for (const inf of this.informers) inf.on(handler);
  }

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  inNamespace(namespace: string): IterableIterator<T> | T[] {
    return this.byNamespace.get(namespace)?.values() ?? [];
  }

  sizeIn(namespace: string): number {
    return this.byNamespace.get(namespace)?.size ?? 0;
  }

  namespaces(): string[] {
    return [...this.byNamespace.keys()];
  }

  *all(): Generator<T> {
    for (const m of this.byNamespace.values()) yield* m.values();
  }

  get synced(): boolean {
    return this.informers.every((i) => i.hasSynced);
  }
}

/** A profile's piece of the rendered config, with its latched domains that no rendered profile serves. */
export type Fragment = ({ ok: true; profile: RenderedProfile } | { ok: false; reason: string }) & { enforcement?: DomainEnforcement[] };

export interface Enqueuer {
  add(key: QueueKey): void;
  addAfter(key: QueueKey, delayMs: number): void;
}

export interface Context {
  config: OperatorConfig;
  client: KubeClient;
  log: Logger;
  metrics: OperatorMetrics;
  queue: Enqueuer;
  events: EventRecorder;
  resolver: Resolver;
  metadata: MetadataCache;
  /** OIDC profiles' providers (discovery + JWKS), by namespace/name. */
  oidcProviders: OIDCProviderCache;
  domains: KindCache<VerifiedDomain>;
  users: KindCache<ManagedUser>;
  profiles: KindCache<SSOProfile>;
  /** Organization namespaces labelled sso.gatehouse.dev/scim=enabled (cluster-scoped: namespace ''). */
  scimNamespaces: KindCache<NamespaceObject>;
  /** The watched namespaces, each with only its display-name annotation (cluster-scoped: namespace ''). */
  displayNames: KindCache<NamespaceObject>;
  /** The gatehouse-scim-token Secrets of the watched namespaces (fieldSelector by name). */
  scimSecrets: KindCache<SecretObject>;
  /** The gatehouse-sp-keys Secrets of the watched namespaces (fieldSelector by name). */
  spKeySecrets: KindCache<SecretObject>;
  /** The gatehouse-oidc-client Secrets of the watched namespaces (fieldSelector by name; read only). */
  oidcClientSecrets: KindCache<SecretObject>;
  /** The client secret each OIDC profile last read, by namespace/name: serves while the Secret is broken. */
  oidcSecretsRead: Map<string, RememberedSecret>;
  /** Per-profile pieces of the rendered config, by namespace/name. */
  fragments: Map<string, Fragment>;
  /** SP key pairs and test tokens, by profile UID. */
  spKeys: Map<string, SPKeys>;
  /** The key that signs domain verifications (see domain-proof.ts); never leaves the operator. */
  domainProofKey: Buffer;
  /** In-memory DNS re-check attempt counts, by VerifiedDomain UID. */
  dnsAttempts: Map<string, number>;
  /** When this process last looked each VerifiedDomain's TXT record up (epoch ms), by UID: spaces re-checks. */
  domainLookups: Map<string, number>;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** `{"apiVersion":…,"kind":…,"metadata":{"name":` of each kind's apply body, serialised once. */
const applyBodyHeads = new Map<ObjectKind, string>();

/** Server-side apply of the status subresource, owning exactly the fields in `status`. */
export async function applyStatus(ctx: Pick<Context, 'client'>, kind: ObjectKind, namespace: string, name: string, status: object): Promise<void> {
  let head = applyBodyHeads.get(kind);
  if (head === undefined) applyBodyHeads.set(kind, (head = `{"apiVersion":${JSON.stringify(API_VERSION)},"kind":${JSON.stringify(kind)},"metadata":{"name":`));
  // The same JSON as stringifying the whole object; thousands of status writes a second build only their variable part.
  const body = `${head}${JSON.stringify(name)},"namespace":${JSON.stringify(namespace)}},"status":${JSON.stringify(status)}}`;
  await ctx.client.apply(pathOf(kind, namespace, name), body, FIELD_MANAGER, {
    subresource: 'status',
    force: true,
    // The watch delivers the result; parsing it here would only make garbage.
    discardBody: true,
  });
}

/** JSON with sorted keys: equal input gives equal bytes. */
export function stableStringify(value: unknown, indent?: number): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = sort(x);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sort(value), null, indent);
}


/** What `stableStringify(a) === stableStringify(b)` says (undefined members count as absent), without building either string. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    // JSON writes undefined array members as null.
    return a.length === bs.length && a.every((x, i) => jsonEqual(x ?? null, bs[i] ?? null));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let defined = 0;
  for (const k in ao) {
    if (ao[k] === undefined) continue;
    defined++;
    if (!jsonEqual(ao[k], bo[k])) return false;
  }
  for (const k in bo) if (bo[k] !== undefined) defined--;
  return defined === 0;
}
