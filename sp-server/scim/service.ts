// SCIM operations on Users and Groups, as reads and writes of ManagedUser and ManagedGroup
// resources. Writes are conditional on the resourceVersion that was read (optimistic
// concurrency): on a conflict the request is re-read and re-applied, so two PATCHes that race
// both land; with If-Match the client asked for one version and gets 412 instead.
import { randomBytes } from 'node:crypto';
import { API_VERSION } from '../../crds/api/index.ts';
import { badRequest, ScimError } from './errors.ts';
import { equalityValues, matches, type AttrPath, type Filter } from './filter.ts';
import {
  ATTRIBUTES_ANNOTATION,
  DISPLAY_NAME_LABEL,
  EXTERNAL_ID_ANNOTATION,
  EXTERNAL_ID_LABEL,
  INDEXED_LABEL,
  LAST_MODIFIED_ANNOTATION,
  emailLabelKey,
  slugForGroup,
  userNameForEmail,
  valueHash,
  withoutIndexLabels,
} from './labels.ts';
import { applyPatch, type PatchOperation } from './patch.ts';
import {
  ENTERPRISE_SCHEMA,
  GROUP_SCHEMA,
  USER_SCHEMA,
  emailDomain,
  parseGroupInput,
  parseUserInput,
  type ScimGroupInput,
  type ScimUserInput,
} from './schemas.ts';
import { isApiError } from '../../kube/client.ts';
import type { K8sObject, KubeStore, Plural } from './store.ts';

export type Json = Record<string, unknown>;

const MAX_ATTEMPTS = 12;
const MAX_ATTRIBUTES_BYTES = 64 * 1024;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function etagOf(obj: K8sObject): string {
  return `W/"${obj.metadata.resourceVersion}"`;
}

/** If-Match: `*`, or a list of (weak or strong) entity tags. */
function checkIfMatch(ifMatch: string | undefined, obj: K8sObject): void {
  if (!ifMatch || ifMatch.trim() === '*') return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!tags.includes(`"${obj.metadata.resourceVersion}"`)) {
    throw new ScimError(412, 'the resource changed since the version given in If-Match', 'invalidVers');
  }
}

function timestamp(v: string | Date | undefined): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.toISOString();
}

const isRecord = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function dropUndefined<T extends Json>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function ownAnnotationsRemoved(a: Record<string, string> | undefined): Record<string, string> {
  const out = { ...(a ?? {}) };
  delete out[EXTERNAL_ID_ANNOTATION];
  delete out[ATTRIBUTES_ANNOTATION];
  delete out[LAST_MODIFIED_ANNOTATION];
  return out;
}

const pathIs = (attr: string, sub?: string) => (p: AttrPath) =>
  !p.urn && p.attr.toLowerCase() === attr.toLowerCase() && (p.sub?.toLowerCase() ?? undefined) === sub?.toLowerCase();

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

  constructor(store: KubeStore) {
    this.store = store;
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

  private async verifiedDomains(namespace: string): Promise<Set<string>> {
    const domains = await this.store.list('verifieddomains', namespace);
    const out = new Set<string>();
    for (const vd of domains) {
      const status = vd.status;
      const conditions = isRecord(status) && Array.isArray(status.conditions) ? status.conditions : [];
      const verified = conditions.some((c: unknown) => isRecord(c) && c.type === 'Verified' && c.status === 'True');
      if (verified && typeof vd.spec?.domain === 'string') out.add(vd.spec.domain.toLowerCase());
    }
    return out;
  }

  /** Users carrying that address (index label), plus every user SCIM has not indexed yet. */
  private async usersByEmail(namespace: string, email: string): Promise<K8sObject[]> {
    const [indexed, unindexed] = await Promise.all([
      this.store.list('managedusers', namespace, emailLabelKey(email)),
      this.store.list('managedusers', namespace, `!${INDEXED_LABEL}`),
    ]);
    return dedupe([...indexed, ...unindexed]);
  }

  private async usersByExternalId(namespace: string, externalId: string): Promise<K8sObject[]> {
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
      this.verifiedDomains(namespace),
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
    for (const e of [userName, ...(input.emails ?? []).map((m) => m.value)]) labels[emailLabelKey(e)] = 'true';
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
      return await this.store.create('managedusers', namespace, await this.buildUser(namespace, name, input, undefined));
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
      return await this.store.create('managedusers', namespace, await this.buildUser(namespace, alt, input, undefined));
    } catch (err) {
      if (isApiError(err, 409)) throw new ScimError(409, `a user with userName '${input.userName}' already exists`, 'uniqueness');
      throw err;
    }
  }

  /** Read, transform, write conditionally; re-read and re-apply on a conflict. */
  private async mutate<T>(
    plural: Plural,
    namespace: string,
    id: string,
    ifMatch: string | undefined,
    build: (current: K8sObject) => Promise<{ body: Json; result: T }>,
  ): Promise<{ obj: K8sObject; result: T }> {
    for (let attempt = 0; ; attempt++) {
      const current = plural === 'managedusers' ? await this.getUser(namespace, id) : await this.getGroup(namespace, id);
      checkIfMatch(ifMatch, current);
      const { body, result } = await build(current);
      try {
        return { obj: await this.store.replace(plural, namespace, id, body), result };
      } catch (err) {
        if (!isApiError(err, 409)) throw err;
        if (ifMatch && ifMatch.trim() !== '*') throw new ScimError(412, 'the resource changed since the version given in If-Match', 'invalidVers');
        if (attempt + 1 >= MAX_ATTEMPTS) throw new ScimError(409, 'the resource is being changed concurrently; retry');
        await sleep(Math.random() * 10 * (attempt + 1));
      }
    }
  }

  async replaceUser(namespace: string, id: string, body: unknown, ifMatch?: string): Promise<K8sObject> {
    const input = parseUserInput(body);
    const { obj } = await this.mutate('managedusers', namespace, id, ifMatch, async (current) => ({
      body: await this.buildUser(namespace, id, input, current),
      result: undefined,
    }));
    return obj;
  }

  async patchUser(namespace: string, id: string, operations: PatchOperation[], ifMatch?: string): Promise<K8sObject> {
    const { obj } = await this.mutate('managedusers', namespace, id, ifMatch, async (current) => {
      const rep = this.userToScim(current, '');
      const patched = applyPatch(rep, operations, { coreSchemas: [USER_SCHEMA], readOnly: ['id', 'meta', 'groups'] });
      const input = parseUserInput(patched);
      return { body: await this.buildUser(namespace, id, input, current), result: undefined };
    });
    return obj;
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
    // A deleted user leaves every group; group membership must not outlive the user.
    for (const group of await this.store.list('managedgroups', namespace)) {
      const members = Array.isArray(group.spec?.members) ? group.spec.members : [];
      if (!members.includes(id)) continue;
      await this.mutate('managedgroups', namespace, group.metadata.name, undefined, async (g) => ({
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

  // -------------------------------------------------------------------------------------------
  // Groups

  groupToScim(obj: K8sObject, baseURL: string, withRefs = true): Json {
    const spec = obj.spec ?? {};
    const members = Array.isArray(spec.members) ? spec.members.filter((m): m is string => typeof m === 'string') : [];
    const created = timestamp(obj.metadata.creationTimestamp);
    return dropUndefined({
      schemas: [GROUP_SCHEMA],
      id: obj.metadata.name,
      externalId: typeof spec.externalId === 'string' ? spec.externalId : undefined,
      displayName: typeof spec.displayName === 'string' ? spec.displayName : '',
      members: members.map((m) => (withRefs ? { value: m, $ref: `${baseURL}/Users/${m}`, type: 'User' } : { value: m })),
      meta: {
        resourceType: 'Group',
        created,
        lastModified: obj.metadata.annotations?.[LAST_MODIFIED_ANNOTATION] ?? created,
        location: `${baseURL}/Groups/${obj.metadata.name}`,
        version: etagOf(obj),
      },
    });
  }

  async getGroup(namespace: string, id: string): Promise<K8sObject> {
    const obj = DNS_SUBDOMAIN.test(id) ? await this.store.get('managedgroups', namespace, id) : undefined;
    if (!obj) throw new ScimError(404, `Group ${id} not found`);
    return obj;
  }

  private async buildGroup(namespace: string, name: string, input: ScimGroupInput, previous: K8sObject | undefined): Promise<Json> {
    const before = new Set(Array.isArray(previous?.spec?.members) ? previous.spec.members : []);
    const members = [...new Set((input.members ?? []).map((m) => m.value))];
    const added = members.filter((m) => !before.has(m));
    for (const m of added) if (!DNS_SUBDOMAIN.test(m)) throw badRequest('invalidValue', `member '${m}' is not a user of this organization`);
    const previousName = typeof previous?.spec?.displayName === 'string' ? previous.spec.displayName.toLowerCase() : undefined;
    const [missing, sameName] = await Promise.all([
      this.missingUsers(namespace, added),
      previousName === input.displayName.toLowerCase()
        ? Promise.resolve([])
        : this.store.list('managedgroups', namespace, `${DISPLAY_NAME_LABEL}=${valueHash(input.displayName, false)}`),
    ]);
    if (missing.length > 0) throw badRequest('invalidValue', `members are not users of this organization: ${missing.slice(0, 10).join(', ')}`);
    if (sameName.some((g) => g.metadata.name !== name)) {
      throw new ScimError(409, `a group with displayName '${input.displayName}' already exists`, 'uniqueness');
    }
    const labels: Record<string, string> = {
      ...withoutIndexLabels(previous?.metadata.labels),
      [INDEXED_LABEL]: 'true',
      [DISPLAY_NAME_LABEL]: valueHash(input.displayName, false),
    };
    if (input.externalId) labels[EXTERNAL_ID_LABEL] = valueHash(input.externalId, true);
    return {
      apiVersion: API_VERSION,
      kind: 'ManagedGroup',
      metadata: {
        name,
        namespace,
        labels,
        annotations: { ...ownAnnotationsRemoved(previous?.metadata.annotations), [LAST_MODIFIED_ANNOTATION]: new Date().toISOString() },
        ...(previous ? { resourceVersion: previous.metadata.resourceVersion } : {}),
      },
      spec: dropUndefined({ displayName: input.displayName, externalId: input.externalId ?? undefined, members }),
    };
  }

  private async missingUsers(namespace: string, names: string[]): Promise<string[]> {
    const missing: string[] = [];
    for (let i = 0; i < names.length; i += 32) {
      const chunk = names.slice(i, i + 32);
      const found = await Promise.all(chunk.map((n) => this.store.get('managedusers', namespace, n)));
      chunk.forEach((n, j) => {
        if (!found[j]) missing.push(n);
      });
    }
    return missing;
  }

  async createGroup(namespace: string, body: unknown): Promise<K8sObject> {
    const input = parseGroupInput(body);
    const name = `${slugForGroup(input.displayName)}-${randomBytes(4).toString('hex')}`;
    return this.store.create('managedgroups', namespace, await this.buildGroup(namespace, name, input, undefined));
  }

  async replaceGroup(namespace: string, id: string, body: unknown, ifMatch?: string): Promise<K8sObject> {
    const input = parseGroupInput(body);
    const { obj } = await this.mutate('managedgroups', namespace, id, ifMatch, async (current) => ({
      body: await this.buildGroup(namespace, id, input, current),
      result: undefined,
    }));
    return obj;
  }

  async patchGroup(namespace: string, id: string, operations: PatchOperation[], ifMatch?: string): Promise<K8sObject> {
    const { obj } = await this.mutate('managedgroups', namespace, id, ifMatch, async (current) => {
      const patched = applyPatch(this.groupToScim(current, '', false), operations, { coreSchemas: [GROUP_SCHEMA], readOnly: ['id', 'meta'] });
      return { body: await this.buildGroup(namespace, id, parseGroupInput(patched), current), result: undefined };
    });
    return obj;
  }

  async deleteGroup(namespace: string, id: string, ifMatch?: string): Promise<void> {
    const current = await this.getGroup(namespace, id);
    checkIfMatch(ifMatch, current);
    if (!(await this.store.delete('managedgroups', namespace, id, ifMatch ? current.metadata.resourceVersion : undefined))) {
      throw new ScimError(404, `Group ${id} not found`);
    }
  }

  async listGroups(namespace: string, filter: Filter | undefined, baseURL: string, withMembers: boolean): Promise<Json[]> {
    const byName = filter && equalityValues(filter, pathIs('displayName'));
    const byId = filter && equalityValues(filter, pathIs('id'));
    let candidates: K8sObject[];
    if (byId) {
      candidates = (await Promise.all(byId.map((id) => (DNS_SUBDOMAIN.test(id) ? this.store.get('managedgroups', namespace, id) : undefined)))).filter(
        (o): o is K8sObject => o !== undefined,
      );
    } else if (byName) {
      candidates = dedupe(
        (
          await Promise.all([
            ...byName.map((n) => this.store.list('managedgroups', namespace, `${DISPLAY_NAME_LABEL}=${valueHash(n, false)}`)),
            this.store.list('managedgroups', namespace, `!${INDEXED_LABEL}`),
          ])
        ).flat(),
      );
    } else {
      candidates = await this.store.list('managedgroups', namespace);
    }
    const reps = candidates.map((o) => this.groupToScim(o, baseURL, withMembers));
    return filter ? reps.filter((r) => matches(r, filter)) : reps;
  }
}

function dedupe(objs: K8sObject[]): K8sObject[] {
  const seen = new Map<string, K8sObject>();
  for (const o of objs) seen.set(o.metadata.name, o);
  return [...seen.values()].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}
