// Reads and writes the organization's custom resources: SCIM keeps no state of its own. Calls go
// through the shared kube/ client, which retries what the API server asks to be retried (429
// while its watch cache initialises, 503 under API priority and fairness pressure).
import { z } from 'zod';
import { isNotFound, type KubeClient } from '../../kube/client.ts';
import { pathOf } from '../../kube/resources.ts';

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

const KIND_OF = { managedusers: 'ManagedUser', managedgroups: 'ManagedGroup', verifieddomains: 'VerifiedDomain' } as const;
export type Plural = keyof typeof KIND_OF;

const LIST_PAGE = 500;

const listPage = z.object({
  items: z.array(k8sObject),
  metadata: z.object({ continue: z.string().optional(), remainingItemCount: z.number().int().optional() }).optional(),
});

export class KubeStore {
  private readonly client: KubeClient;

  constructor(client: KubeClient) {
    this.client = client;
  }

  private path(plural: Plural, namespace: string, name?: string): string {
    return pathOf(KIND_OF[plural], namespace, name);
  }

  async get(plural: Plural, namespace: string, name: string): Promise<K8sObject | undefined> {
    try {
      return k8sObject.parse(await this.client.call('GET', this.path(plural, namespace, name)));
    } catch (err) {
      if (isNotFound(err)) return undefined;
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
      const page = listPage.parse(
        await this.client.call('GET', this.path(plural, namespace), {
          query: labelSelector ? { labelSelector } : { limit: LIST_PAGE, continue: cont },
          verb: 'list',
        }),
      );
      out.push(...page.items);
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return out;
  }

  /**
   * One chunk of the unfiltered collection, from the start or from a continue token (a
   * consistent snapshot). `remaining` is the number of objects after it when the server says so.
   */
  async listChunk(plural: Plural, namespace: string, limit: number, cont?: string): Promise<{ items: K8sObject[]; continue?: string; remaining?: number }> {
    const page = listPage.parse(await this.client.call('GET', this.path(plural, namespace), { query: { limit, continue: cont }, verb: 'list' }));
    return {
      items: page.items,
      ...(page.metadata?.continue ? { continue: page.metadata.continue } : {}),
      ...(page.metadata?.remainingItemCount !== undefined ? { remaining: page.metadata.remainingItemCount } : {}),
    };
  }

  async create(plural: Plural, namespace: string, body: object): Promise<K8sObject> {
    return k8sObject.parse(await this.client.call('POST', this.path(plural, namespace), { body }));
  }

  /** Replaces the object; body.metadata.resourceVersion makes it conditional (409 when stale). */
  async replace(plural: Plural, namespace: string, name: string, body: object): Promise<K8sObject> {
    return k8sObject.parse(await this.client.call('PUT', this.path(plural, namespace, name), { body }));
  }

  /** Deletes the object, only at that resourceVersion when one is given. False when it did not exist. */
  async delete(plural: Plural, namespace: string, name: string, resourceVersion?: string): Promise<boolean> {
    try {
      await this.client.call('DELETE', this.path(plural, namespace, name), resourceVersion ? { body: { preconditions: { resourceVersion } } } : {});
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}
