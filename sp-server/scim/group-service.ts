// SCIM Groups as ManagedGroup resources: representation, uniqueness of displayName (through an
// index label), members that must be users of the organization, conditional writes.
import { randomBytes } from 'node:crypto';
import { API_VERSION } from '../../crds/api/index.ts';
import { badRequest, ScimError } from './errors.ts';
import { equalityValues, matches, type Filter } from './filter.ts';
import { DISPLAY_NAME_LABEL, EXTERNAL_ID_LABEL, INDEXED_LABEL, LAST_MODIFIED_ANNOTATION, slugForGroup, valueHash, withoutIndexLabels } from './labels.ts';
import { applyPatch, type PatchOperation } from './patch.ts';
import { conditionalUpdate, checkIfMatch, dedupe, DNS_SUBDOMAIN, dropUndefined, etagOf, ownAnnotationsRemoved, pathIs, timestamp, type Json } from './resource.ts';
import { GROUP_SCHEMA, parseGroupInput, type ScimGroupInput } from './schemas.ts';
import type { K8sObject, KubeStore } from './store.ts';
import type { ScimUserCache } from './user-cache.ts';

export class ScimGroups {
  private readonly store: KubeStore;
  private readonly users: ScimUserCache | undefined;

  constructor(store: KubeStore, users?: ScimUserCache) {
    this.store = store;
    this.users = users;
  }


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

  /** Names that are not users of the namespace: the cache vouches for most, the API server for the rest (a user another replica just created). */
  private async missingUsers(namespace: string, names: string[]): Promise<string[]> {
    const unknown = this.users ? names.filter((n) => !this.users!.get(namespace, n)) : names;
    const missing: string[] = [];
    for (let i = 0; i < unknown.length; i += 32) {
      const chunk = unknown.slice(i, i + 32);
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
    const { obj } = await conditionalUpdate(this.store, 'managedgroups', namespace, id, ifMatch, () => this.getGroup(namespace, id), async (current) => ({
      body: await this.buildGroup(namespace, id, input, current),
      result: undefined,
    }));
    return obj;
  }

  async patchGroup(namespace: string, id: string, operations: PatchOperation[], ifMatch?: string): Promise<K8sObject> {
    const { obj } = await conditionalUpdate(this.store, 'managedgroups', namespace, id, ifMatch, () => this.getGroup(namespace, id), async (current) => {
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
