// SCIM operations on Users, as reads and writes of ManagedUser resources (Groups are
// group-service.ts). Writes are conditional on the resourceVersion that was read (resource.ts).
import { randomBytes } from 'node:crypto';
import { isApiError } from '../../kube/client.ts';
import { API_VERSION } from '../../crds/api/index.ts';
import { badRequest, ScimError } from './errors.ts';
import { equalityValues, matches, type Filter } from './filter.ts';
import {
  ATTRIBUTES_ANNOTATION,
  EXTERNAL_ID_ANNOTATION,
  EXTERNAL_ID_LABEL,
  INDEXED_LABEL,
  LAST_MODIFIED_ANNOTATION,
  emailLabelKey,
  userNameForEmail,
  valueHash,
  withoutIndexLabels,
} from './labels.ts';
import { applyPatch, type PatchOperation } from './patch.ts';
import {
  ENTERPRISE_SCHEMA,
  USER_SCHEMA,
  emailDomain,
  parseUserInput,
  type ScimUserInput,
} from './schemas.ts';
import type { K8sObject, KubeStore } from './store.ts';
import type { ScimUserCache } from './user-cache.ts';

/** An organization's Verified domains as the operator rendered them into the SP config. */
export type VerifiedDomains = (namespace: string) => ReadonlySet<string>;
import { ScimGroups } from './group-service.ts';
import {
  checkIfMatch,
  conditionalUpdate,
  dedupe,
  DNS_SUBDOMAIN,
  dropUndefined,
  etagOf,
  isRecord,
  MAX_ATTRIBUTES_BYTES,
  ownAnnotationsRemoved,
  pathIs,
  timestamp,
  type Json,
} from './resource.ts';

export { etagOf, type Json } from './resource.ts';

export interface ListResult {
  total: number;
  resources: Json[];
}

/** Continue tokens outlive etcd compaction (5 minutes by default) only briefly: stay under it. */
const CURSOR_TTL_MS = 4 * 60_000;
const MAX_CURSORS = 1024;

export class ScimService {
  private readonly store: KubeStore;
  /** `namespace/offset` → continue token of the unfiltered user list, for sequential paging. */
  private readonly cursors = new Map<string, { token: string; expires: number }>();

  readonly groups: ScimGroups;
  private readonly verifiedDomainsOf: VerifiedDomains;
  /** Serves lookups by address and externalId once synced; without it (or unsynced) they are LISTs. */
  private readonly cache: ScimUserCache | undefined;

  constructor(store: KubeStore, verifiedDomains: VerifiedDomains, cache?: ScimUserCache) {
    this.store = store;
    this.verifiedDomainsOf = verifiedDomains;
    this.cache = cache;
    this.groups = new ScimGroups(store, cache);
  }

  /** Keeps the cache ahead of the watch for this process's own writes (read-your-writes for the IdP). */
  private written(obj: K8sObject): K8sObject {
    this.cache?.written(obj);
    return obj;
  }

  // -------------------------------------------------------------------------------------------
  // Users

  userToScim(obj: K8sObject, baseURL: string): Json {
    const spec = obj.spec ?? {};
    const annotations = obj.metadata.annotations ?? {};
    let attributes: Json = {};
    try {
      const parsed: unknown = JSON.parse(annotations[ATTRIBUTES_ANNOTATION] ?? '{}');
      if (isRecord(parsed)) attributes = parsed;
    } catch {
      attributes = {};
    }
    const email = typeof spec.email === 'string' ? spec.email : '';
    const created = timestamp(obj.metadata.creationTimestamp);
    return dropUndefined({
      schemas: attributes[ENTERPRISE_SCHEMA] ? [USER_SCHEMA, ENTERPRISE_SCHEMA] : [USER_SCHEMA],
      id: obj.metadata.name,
      externalId: annotations[EXTERNAL_ID_ANNOTATION],
      userName: email,
      ...attributes,
      displayName: typeof spec.displayName === 'string' ? spec.displayName : undefined,
      active: spec.active !== false,
      emails: attributes.emails ?? (email ? [{ value: email, type: 'work', primary: true }] : undefined),
      meta: {
        resourceType: 'User',
        created,
        lastModified: annotations[LAST_MODIFIED_ANNOTATION] ?? created,
        location: `${baseURL}/Users/${obj.metadata.name}`,
        version: etagOf(obj),
      },
    });
  }

  /** Users carrying that address (index label), plus every user SCIM has not indexed yet. */
  private async usersByEmail(namespace: string, email: string): Promise<K8sObject[]> {
    const cached = this.cache?.byEmail(namespace, email);
    if (cached) return dedupe(cached);
    const [indexed, unindexed] = await Promise.all([
      this.store.list('managedusers', namespace, emailLabelKey(email)),
      this.store.list('managedusers', namespace, `!${INDEXED_LABEL}`),
    ]);
    return dedupe([...indexed, ...unindexed]);
  }

  private async usersByExternalId(namespace: string, externalId: string): Promise<K8sObject[]> {
    const cached = this.cache?.byExternalId(namespace, externalId);
    if (cached) return dedupe(cached);
    const [indexed, unindexed] = await Promise.all([
      this.store.list('managedusers', namespace, `${EXTERNAL_ID_LABEL}=${valueHash(externalId, true)}`),
      this.store.list('managedusers', namespace, `!${INDEXED_LABEL}`),
    ]);
    return dedupe([...indexed, ...unindexed]);
  }

  /**
   * Validates a user before any write: the userName is an email in one of the organization's
   * Verified domains and no other user holds it. Returns the ManagedUser to write.
   */
  private async buildUser(namespace: string, name: string, input: ScimUserInput, previous: K8sObject | undefined): Promise<Json> {
    const userName = input.userName;
    const domain = emailDomain(userName);
    if (!domain) throw badRequest('invalidValue', `userName '${userName}' must be an email address`);
    const previousEmail = typeof previous?.spec?.email === 'string' ? previous.spec.email.toLowerCase() : undefined;
    const [verified, holders] = await Promise.all([
      // The operator's rendered list: only verifications it signed, never a status a tenant wrote.
      Promise.resolve(this.verifiedDomainsOf(namespace)),
      previousEmail === userName.toLowerCase() ? Promise.resolve([]) : this.usersByEmail(namespace, userName),
    ]);
    if (!verified.has(domain)) {
      throw badRequest('invalidValue', `userName '${userName}': ${domain} is not a verified domain of this organization`);
    }
    const clash = holders.find(
      (u) => u.metadata.name !== name && typeof u.spec?.email === 'string' && u.spec.email.toLowerCase() === userName.toLowerCase(),
    );
    if (clash) throw new ScimError(409, `a user with userName '${userName}' already exists`, 'uniqueness');

    const { schemas: _s, id: _i, meta: _m, userName: _u, externalId, displayName, active, password: _p, groups: _g, ...rest } = input;
    const attributes = JSON.stringify(rest);
    if (attributes.length > MAX_ATTRIBUTES_BYTES) throw badRequest('invalidValue', 'the user\'s attributes are too large');
    const derivedName =
      displayName ?? input.name?.formatted ?? ([input.name?.givenName, input.name?.familyName].filter(Boolean).join(' ') || undefined);

    const labels: Record<string, string> = { ...withoutIndexLabels(previous?.metadata.labels), [INDEXED_LABEL]: 'true' };
    // userName is usually also the primary email: each distinct address is hashed once.
    for (const e of new Set([userName, ...(input.emails ?? []).map((m) => m.value)].map((a) => a.trim().toLowerCase()))) labels[emailLabelKey(e)] = 'true';
    if (externalId) labels[EXTERNAL_ID_LABEL] = valueHash(externalId, true);
    const annotations: Record<string, string> = {
      ...ownAnnotationsRemoved(previous?.metadata.annotations),
      [LAST_MODIFIED_ANNOTATION]: new Date().toISOString(),
    };
    if (externalId) annotations[EXTERNAL_ID_ANNOTATION] = externalId;
    if (attributes !== '{}') annotations[ATTRIBUTES_ANNOTATION] = attributes;

    // Roles and the SSO override are not SCIM's: they survive every SCIM write.
    const spec: Json = { ...(previous?.spec ?? {}), email: userName, active: active ?? true };
    if (derivedName) spec.displayName = derivedName.slice(0, 256);
    else delete spec.displayName;

    return {
      apiVersion: API_VERSION,
      kind: 'ManagedUser',
      metadata: {
        name,
        namespace,
        labels,
        annotations,
        ...(previous ? { resourceVersion: previous.metadata.resourceVersion } : {}),
      },
      spec,
    };
  }

  async getUser(namespace: string, id: string): Promise<K8sObject> {
    const obj = DNS_SUBDOMAIN.test(id) ? await this.store.get('managedusers', namespace, id) : undefined;
    if (!obj) throw new ScimError(404, `User ${id} not found`);
    return obj;
  }

  async createUser(namespace: string, body: unknown): Promise<K8sObject> {
    const input = parseUserInput(body);
    const name = userNameForEmail(input.userName);
    try {
      return this.written(await this.store.create('managedusers', namespace, await this.buildUser(namespace, name, input, undefined)));
    } catch (err) {
      if (!isApiError(err, 409)) throw err;
    }
    // The derived name is taken. Either a racing create of the same address won (uniqueness),
    // or the holder of the name has since changed its userName: then the address is free and
    // the new user gets the derived name plus a random suffix.
    const holder = await this.store.get('managedusers', namespace, name);
    if (!holder || (typeof holder.spec?.email === 'string' && holder.spec.email.toLowerCase() === input.userName.toLowerCase())) {
      throw new ScimError(409, `a user with userName '${input.userName}' already exists`, 'uniqueness');
    }
    const alt = `${name}-${randomBytes(3).toString('hex')}`;
    try {
      return this.written(await this.store.create('managedusers', namespace, await this.buildUser(namespace, alt, input, undefined)));
    } catch (err) {
      if (isApiError(err, 409)) throw new ScimError(409, `a user with userName '${input.userName}' already exists`, 'uniqueness');
      throw err;
    }
  }


  async replaceUser(namespace: string, id: string, body: unknown, ifMatch?: string): Promise<K8sObject> {
    const input = parseUserInput(body);
    const { obj } = await conditionalUpdate(this.store, 'managedusers', namespace, id, ifMatch, () => this.getUser(namespace, id), async (current) => ({
      body: await this.buildUser(namespace, id, input, current),
      result: undefined,
    }));
    return this.written(obj);
  }

  async patchUser(namespace: string, id: string, operations: PatchOperation[], ifMatch?: string): Promise<K8sObject> {
    const { obj } = await conditionalUpdate(this.store, 'managedusers', namespace, id, ifMatch, () => this.getUser(namespace, id), async (current) => {
      const rep = this.userToScim(current, '');
      const patched = applyPatch(rep, operations, { coreSchemas: [USER_SCHEMA], readOnly: ['id', 'meta', 'groups'] });
      const input = parseUserInput(patched);
      return { body: await this.buildUser(namespace, id, input, current), result: undefined };
    });
    return this.written(obj);
  }

  async deleteUser(namespace: string, id: string, ifMatch?: string): Promise<void> {
    const current = await this.getUser(namespace, id);
    checkIfMatch(ifMatch, current);
    try {
      if (!(await this.store.delete('managedusers', namespace, id, ifMatch ? current.metadata.resourceVersion : undefined))) {
        throw new ScimError(404, `User ${id} not found`);
      }
    } catch (err) {
      if (isApiError(err, 409)) throw new ScimError(412, 'the resource changed since the version given in If-Match', 'invalidVers');
      throw err;
    }
    this.cache?.deleted(namespace, id);
    // A deleted user leaves every group; group membership must not outlive the user.
    for (const group of await this.store.list('managedgroups', namespace)) {
      const members = Array.isArray(group.spec?.members) ? group.spec.members : [];
      if (!members.includes(id)) continue;
      await conditionalUpdate(this.store, 'managedgroups', namespace, group.metadata.name, undefined, () => this.groups.getGroup(namespace, group.metadata.name), async (g) => ({
        body: { ...g, spec: { ...g.spec, members: (Array.isArray(g.spec?.members) ? g.spec.members : []).filter((m) => m !== id) } },
        result: undefined,
      }));
    }
  }

  /**
   * An unfiltered page of users. IdPs import by walking startIndex = 1, 1+count, 1+2·count…:
   * each page remembers the API server's continue token for the next offset, so a full import
   * reads each user once instead of the whole namespace per page. Undefined when the server
   * does not report the collection's size (the caller then scans).
   */
  async listUsersPage(namespace: string, startIndex: number, count: number, baseURL: string): Promise<ListResult | undefined> {
    const offset = startIndex - 1;
    const key = `${namespace}/${offset}`;
    const cursor = this.cursors.get(key);
    this.cursors.delete(key);
    let items: K8sObject[] | undefined;
    let total: number | undefined;
    let next: string | undefined;
    if (cursor && cursor.expires > Date.now() && count > 0) {
      try {
        const chunk = await this.store.listChunk('managedusers', namespace, count, cursor.token);
        if (!chunk.continue || chunk.remaining !== undefined) {
          items = chunk.items;
          total = offset + chunk.items.length + (chunk.remaining ?? 0);
          next = chunk.continue;
        }
      } catch (err) {
        if (!isApiError(err, 410)) throw err; // 410: the snapshot was compacted away; start over
      }
    }
    if (items === undefined) {
      const chunk = await this.store.listChunk('managedusers', namespace, offset + Math.max(count, 1));
      if (chunk.continue && chunk.remaining === undefined) return undefined;
      total = chunk.items.length + (chunk.remaining ?? 0);
      items = chunk.items.slice(offset, offset + count);
      next = chunk.continue;
    }
    if (next && count > 0) {
      if (this.cursors.size >= MAX_CURSORS) this.cursors.delete(this.cursors.keys().next().value!);
      this.cursors.set(`${namespace}/${offset + items.length}`, { token: next, expires: Date.now() + CURSOR_TTL_MS });
    }
    return { total: total ?? items.length, resources: items.map((o) => this.userToScim(o, baseURL)) };
  }

  async listUsers(namespace: string, filter: Filter | undefined, baseURL: string): Promise<Json[]> {
    let candidates: K8sObject[];
    const byUserName = filter && equalityValues(filter, pathIs('userName'));
    const byEmail = filter && equalityValues(filter, (p) => pathIs('emails', 'value')(p));
    const byExternalId = filter && equalityValues(filter, pathIs('externalId'));
    const byId = filter && equalityValues(filter, pathIs('id'));
    if (byId) {
      candidates = (await Promise.all(byId.map((id) => (DNS_SUBDOMAIN.test(id) ? this.store.get('managedusers', namespace, id) : undefined)))).filter(
        (o): o is K8sObject => o !== undefined,
      );
    } else if (byUserName ?? byEmail) {
      candidates = dedupe((await Promise.all((byUserName ?? byEmail)!.map((e) => this.usersByEmail(namespace, e)))).flat());
    } else if (byExternalId) {
      candidates = dedupe((await Promise.all(byExternalId.map((e) => this.usersByExternalId(namespace, e)))).flat());
    } else {
      candidates = await this.store.list('managedusers', namespace);
    }
    const reps = candidates.map((o) => this.userToScim(o, baseURL));
    return filter ? reps.filter((r) => matches(r, filter)) : reps;
  }
}
