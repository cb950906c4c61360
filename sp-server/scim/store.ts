// Reads and writes the organization's custom resources: SCIM keeps no state of its own.
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { GROUP, VERSION } from '../../crds/api/index.ts';
import { pooledKubeConfig, type PooledKubeConfig } from './kube-pool.ts';

export const objectMeta = z.object({
  name: z.string(),
  namespace: z.string(),
  uid: z.string().optional(),
  resourceVersion: z.string(),
  creationTimestamp: z.union([z.string(), z.date()]).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;

/** An object as the API server returned it; spec is validated by the caller's own schema. */
export const k8sObject = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: objectMeta,
  spec: z.record(z.string(), z.unknown()).optional(),
  status: z.unknown().optional(),
});
export type K8sObject = z.infer<typeof k8sObject>;

export type Plural = 'managedusers' | 'managedgroups' | 'verifieddomains';

const LIST_PAGE = 500;

export function isApiError(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RETRIES = 6;

/**
 * The API server answers 429 (with Retry-After) while its watch cache (re)initializes, e.g. just
 * after a restart or a CRD install, and under API Priority and Fairness pressure: wait and retry
 * a bounded number of times instead of failing the IdP's request.
 */
async function withRetry<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof ApiException) || (err.code !== 429 && err.code !== 503) || attempt >= RETRIES) throw err;
      const retryAfter = Number(err.headers?.['retry-after'] ?? '1');
      await sleep(Math.min(2000, Math.max(100, (Number.isFinite(retryAfter) ? retryAfter : 1) * 1000 * (0.5 + Math.random() / 2))));
    }
  }
}

export class KubeStore {
  private readonly api: CustomObjectsApi;
  private readonly pool: PooledKubeConfig;

  constructor(kubeConfig: KubeConfig) {
    this.pool = pooledKubeConfig(kubeConfig);
    this.api = this.pool.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** Closes the API-server connections this store opened. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private base(plural: Plural, namespace: string) {
    return { group: GROUP, version: VERSION, plural, namespace };
  }

  async get(plural: Plural, namespace: string, name: string): Promise<K8sObject | undefined> {
    try {
      return k8sObject.parse(await withRetry(() => this.api.getNamespacedCustomObject({ ...this.base(plural, namespace), name })));
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  }

  /**
   * Every object matching the selector. A full list goes page by page so a 100k-user
   * organization stays bounded per response. A selective label query is one unpaged request:
   * the API server then answers from its watch cache, whereas a paged (limit) request may be
   * served from etcd, reading the whole collection to fill the page.
   */
  async list(plural: Plural, namespace: string, labelSelector?: string): Promise<K8sObject[]> {
    const out: K8sObject[] = [];
    let cont: string | undefined;
    do {
      const page = z
        .object({ items: z.array(k8sObject), metadata: z.object({ continue: z.string().optional() }).optional() })
        .parse(
          await withRetry(() =>
            this.api.listNamespacedCustomObject({
              ...this.base(plural, namespace),
              ...(labelSelector ? { labelSelector } : { limit: LIST_PAGE }),
              ...(cont ? { _continue: cont } : {}),
            }),
          ),
        );
      out.push(...page.items);
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return out;
  }

  /**
   * One chunk of the unfiltered collection, from the start or from a continue token (a
   * consistent snapshot). `total` is the size of the collection when the server says so.
   */
  async listChunk(plural: Plural, namespace: string, limit: number, cont?: string): Promise<{ items: K8sObject[]; continue?: string; remaining?: number }> {
    const page = z
      .object({
        items: z.array(k8sObject),
        metadata: z.object({ continue: z.string().optional(), remainingItemCount: z.number().int().optional() }).optional(),
      })
      .parse(
        await withRetry(() =>
          this.api.listNamespacedCustomObject({ ...this.base(plural, namespace), limit, ...(cont ? { _continue: cont } : {}) }),
        ),
      );
    return {
      items: page.items,
      ...(page.metadata?.continue ? { continue: page.metadata.continue } : {}),
      ...(page.metadata?.remainingItemCount !== undefined ? { remaining: page.metadata.remainingItemCount } : {}),
    };
  }

  async create(plural: Plural, namespace: string, body: object): Promise<K8sObject> {
    return k8sObject.parse(await withRetry(() => this.api.createNamespacedCustomObject({ ...this.base(plural, namespace), body })));
  }

  /** Replaces the object; body.metadata.resourceVersion makes it conditional (409 when stale). */
  async replace(plural: Plural, namespace: string, name: string, body: object): Promise<K8sObject> {
    return k8sObject.parse(await withRetry(() => this.api.replaceNamespacedCustomObject({ ...this.base(plural, namespace), name, body })));
  }

  /** Deletes the object, only at that resourceVersion when one is given. False when it did not exist. */
  async delete(plural: Plural, namespace: string, name: string, resourceVersion?: string): Promise<boolean> {
    try {
      await withRetry(() =>
        this.api.deleteNamespacedCustomObject({
          ...this.base(plural, namespace),
          name,
          ...(resourceVersion ? { body: { preconditions: { resourceVersion } } } : {}),
        }),
      );
      return true;
    } catch (err) {
      if (isApiError(err, 404)) return false;
      throw err;
    }
  }
}
