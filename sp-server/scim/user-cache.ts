// Every organization's ManagedUsers as SCIM looks them up, from a watch cache: `userName eq`,
// `emails.value eq`, `externalId eq`, the uniqueness check before a write and the existence of
// group members are answered from memory through an index, instead of one or two LISTs each.
// Until the cache has synced (and whenever it is unhealthy) every lookup answers `undefined` and
// the caller asks the API server, so a cold or broken watch costs speed, never correctness.
import type { Logger } from 'pino';
import { Informer, objectKey, type KubeObject } from '../../kube/informer.ts';
import { RESOURCES } from '../../kube/resources.ts';
import type { KubeClient } from '../../kube/client.ts';
import {
  ATTRIBUTES_ANNOTATION,
  EMAIL_LABEL_PREFIX,
  EXTERNAL_ID_ANNOTATION,
  EXTERNAL_ID_LABEL,
  INDEXED_LABEL,
  emailLabelKey,
  valueHash,
} from './labels.ts';
import { k8sObject, type K8sObject } from './store.ts';
import { SetIndex } from './set-index.ts';

/** A write this process made is newer than a watch event still in flight for an older version. */
function olderThan(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}

/** How long a user this process deleted stays hidden from late watch events of its past versions. */
const TOMBSTONE_MS = 60_000;

export class ScimUserCache {
  private readonly informer: Informer<KubeObject>;
  private readonly objects = new Map<string, K8sObject>();
  /** `namespace \0 term` → keys of the users with that term (an email label key, or `ext:` + externalId hash). */
  private readonly index = new SetIndex();
  private readonly termsOf = new Map<string, string[]>();
  private readonly tombstones = new Map<string, { resourceVersion: string | undefined; until: number }>();
  /** This process's writes, already validated by the store when the API server answered: not parsed twice. */
  private readonly validated = new WeakSet<object>();

  constructor(client: KubeClient, logger: Logger) {
    this.informer = new Informer<KubeObject>(client, RESOURCES.ManagedUser, {}, logger);
    this.informer.on((event, raw) => {
      const key = objectKey(raw);
      if (event === 'delete') {
        this.tombstones.delete(key);
        this.remove(key);
        return;
      }
      const tomb = this.tombstones.get(key);
      if (tomb && tomb.until > Date.now() && !olderThan(tomb.resourceVersion, raw.metadata.resourceVersion)) return;
      const held = this.objects.get(key);
      if (held && held.metadata.resourceVersion === raw.metadata.resourceVersion) {
        // The watch echo of this process's own write, or a resync: same version, same index terms.
        // Keep the informer's copy so each user is in memory once.
        this.objects.set(key, raw as K8sObject);
        return;
      }
      if (olderThan(raw.metadata.resourceVersion, held?.metadata.resourceVersion)) return;
      // Validated, then kept as the informer's own object.
      if (!this.validated.has(raw) && !k8sObject.safeParse(raw).success) return;
      this.put(key, raw as K8sObject);
    });
  }

  start(): void {
    this.informer.start();
  }
  stop(): Promise<void> {
    return this.informer.stop();
  }
  waitForSync(ms: number): Promise<boolean> {
    return this.informer.waitForSync(ms);
  }
  get healthy(): boolean {
    return this.informer.healthy;
  }
  get size(): number {
    return this.objects.size;
  }

  /** Users of the namespace with that address as userName or in emails; undefined when the cache cannot answer. */
  byEmail(namespace: string, email: string): K8sObject[] | undefined {
    return this.lookup(namespace, emailLabelKey(email));
  }

  byExternalId(namespace: string, externalId: string): K8sObject[] | undefined {
    return this.lookup(namespace, `ext:${valueHash(externalId, true)}`);
  }

  /** The user, null when the cache knows there is none, undefined when it cannot say. */
  get(namespace: string, name: string): K8sObject | null | undefined {
    if (!this.healthy) return undefined;
    return this.objects.get(`${namespace}/${name}`) ?? null;
  }

  /** A user this process just created or replaced, ahead of its watch event. */
  written(obj: K8sObject): void {
    this.tombstones.delete(`${obj.metadata.namespace}/${obj.metadata.name}`);
    this.validated.add(obj);
    // Through the informer (whose handler indexes it), so a relist that no longer finds it reports its deletion.
    this.informer.upsert(obj as KubeObject);
  }

  /** A user this process just deleted, ahead of its watch event. */
  deleted(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    this.tombstones.set(key, { resourceVersion: this.objects.get(key)?.metadata.resourceVersion, until: Date.now() + TOMBSTONE_MS });
    if (this.tombstones.size > 10_000) {
      const now = Date.now();
      for (const [k, t] of this.tombstones) if (t.until <= now) this.tombstones.delete(k);
    }
    this.remove(key);
  }

  private lookup(namespace: string, term: string): K8sObject[] | undefined {
    if (!this.healthy) return undefined;
    const keys = this.index.get(`${namespace}\0${term}`);
    if (!keys) return [];
    return [...keys].flatMap((k) => this.objects.get(k) ?? []);
  }

  private put(key: string, obj: K8sObject): void {
    this.remove(key);
    this.objects.set(key, obj);
    const terms = termsOf(obj);
    this.termsOf.set(key, terms);
    for (const t of terms) this.index.add(`${obj.metadata.namespace}\0${t}`, key);
  }

  private remove(key: string): void {
    const obj = this.objects.get(key);
    if (!obj) return;
    this.objects.delete(key);
    for (const t of this.termsOf.get(key) ?? []) this.index.delete(`${obj.metadata.namespace}\0${t}`, key);
    this.termsOf.delete(key);
  }
}

/**
 * The index terms of a user: the email label keys SCIM wrote (userName and emails[].value) and
 * its externalId hash; for a user SCIM has not written (kubectl, JIT) the same terms are derived
 * from spec.email and the annotations, which is what the label-less LIST used to scan for.
 */
function termsOf(obj: K8sObject): string[] {
  const labels = obj.metadata.labels ?? {};
  const annotations = obj.metadata.annotations ?? {};
  const terms = new Set<string>();
  if (typeof obj.spec?.email === 'string') terms.add(emailLabelKey(obj.spec.email));
  for (const k of Object.keys(labels)) if (k.startsWith(EMAIL_LABEL_PREFIX)) terms.add(k);
  if (labels[EXTERNAL_ID_LABEL]) terms.add(`ext:${labels[EXTERNAL_ID_LABEL]}`);
  if (!labels[INDEXED_LABEL]) {
    const externalId = annotations[EXTERNAL_ID_ANNOTATION];
    if (externalId) terms.add(`ext:${valueHash(externalId, true)}`);
    for (const email of annotatedEmails(annotations[ATTRIBUTES_ANNOTATION])) terms.add(emailLabelKey(email));
  }
  return [...terms];
}

function annotatedEmails(attributes: string | undefined): string[] {
  if (!attributes) return [];
  try {
    const parsed: unknown = JSON.parse(attributes);
    const emails = parsed && typeof parsed === 'object' ? (parsed as { emails?: unknown }).emails : undefined;
    return Array.isArray(emails) ? emails.flatMap((e: unknown) => (e && typeof e === 'object' && typeof (e as { value?: unknown }).value === 'string' ? [(e as { value: string }).value] : [])) : [];
  } catch {
    return [];
  }
}
