// What SCIM's Users and Groups have in common as Kubernetes objects: entity tags and If-Match,
// the representation helpers, and conditional writes that re-read and re-apply on a conflict
// (optimistic concurrency), so two PATCHes that race both land.
import { setTimeout as sleep } from 'node:timers/promises';
import { isApiError } from '../../kube/client.ts';
import { ScimError } from './errors.ts';
import type { AttrPath } from './filter.ts';
import { ATTRIBUTES_ANNOTATION, EXTERNAL_ID_ANNOTATION, LAST_MODIFIED_ANNOTATION } from './labels.ts';
import type { K8sObject, KubeStore, Plural } from './store.ts';

export type Json = Record<string, unknown>;

export const MAX_ATTRIBUTES_BYTES = 64 * 1024;
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;


export function etagOf(obj: K8sObject): string {
  return `W/"${obj.metadata.resourceVersion}"`;
}

/** If-Match: `*`, or a list of (weak or strong) entity tags. */
export function checkIfMatch(ifMatch: string | undefined, obj: K8sObject): void {
  if (!ifMatch || ifMatch.trim() === '*') return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!tags.includes(`"${obj.metadata.resourceVersion}"`)) {
    throw new ScimError(412, 'the resource changed since the version given in If-Match', 'invalidVers');
  }
}

export function timestamp(v: string | Date | undefined): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.toISOString();
}

export const isRecord = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export function dropUndefined<T extends Json>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export function ownAnnotationsRemoved(a: Record<string, string> | undefined): Record<string, string> {
  const out = { ...(a ?? {}) };
  delete out[EXTERNAL_ID_ANNOTATION];
  delete out[ATTRIBUTES_ANNOTATION];
  delete out[LAST_MODIFIED_ANNOTATION];
  return out;
}

export const pathIs = (attr: string, sub?: string) => (p: AttrPath) =>
  !p.urn && p.attr.toLowerCase() === attr.toLowerCase() && (p.sub?.toLowerCase() ?? undefined) === sub?.toLowerCase();

const MAX_ATTEMPTS = 12;

/**
 * Read, transform, write conditionally on the resourceVersion read; on a conflict re-read and
 * re-apply. With If-Match the client asked for one version and gets 412 instead.
 */
export async function conditionalUpdate<T>(
  store: KubeStore,
  plural: Plural,
  namespace: string,
  id: string,
  ifMatch: string | undefined,
  read: () => Promise<K8sObject>,
  build: (current: K8sObject) => Promise<{ body: Json; result: T }>,
): Promise<{ obj: K8sObject; result: T }> {
  for (let attempt = 0; ; attempt++) {
    const current = await read();
    checkIfMatch(ifMatch, current);
    const { body, result } = await build(current);
    try {
      return { obj: await store.replace(plural, namespace, id, body), result };
    } catch (err) {
      if (!isApiError(err, 409)) throw err;
      if (ifMatch && ifMatch.trim() !== '*') throw new ScimError(412, 'the resource changed since the version given in If-Match', 'invalidVers');
      if (attempt + 1 >= MAX_ATTEMPTS) throw new ScimError(409, 'the resource is being changed concurrently; retry');
      await sleep(Math.random() * 10 * (attempt + 1));
    }
  }
}

export function dedupe(objs: K8sObject[]): K8sObject[] {
  const seen = new Map<string, K8sObject>();
  for (const o of objs) seen.set(o.metadata.name, o);
  return [...seen.values()].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}
