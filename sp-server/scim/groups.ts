// Group names for role mapping at login: the displayNames of the ManagedGroups (provisioned by
// SCIM or kubectl) that list the user. The sp-server feeds them to SSOProfile.spec.roleMapping
// next to the groups the IdP sent in the assertion. The server answers them from a watch cache
// indexed by member (ManagedGroupCache), so a login costs no API-server request; until that
// cache has synced a login reads the namespace's groups through the API server.
import type { Logger } from 'pino';
import { managedGroupSpec, type ManagedGroupSpec } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { Informer, objectKey, type KubeObject } from '../../kube/informer.ts';
import { RESOURCES } from '../../kube/resources.ts';
import { KubeStore } from './store.ts';
import { SetIndex } from './set-index.ts';

/** What role mapping needs of a ManagedGroup, typed by the CRD. */
export type GroupMembership = Required<Pick<ManagedGroupSpec, 'displayName' | 'members'>>;

export interface GroupSource {
  /** displayNames of the namespace's groups that have the ManagedUser (by metadata.name) as a member, sorted. */
  groupsOf(namespace: string, managedUserName: string): Promise<string[]>;
}

function membershipOf(spec: unknown): GroupMembership | undefined {
  const parsed = managedGroupSpec.safeParse(spec);
  return parsed.success ? { displayName: parsed.data.displayName, members: parsed.data.members ?? [] } : undefined;
}

const namesOfGroupsWith = (groups: Iterable<GroupMembership>, member: string): string[] =>
  [...groups].filter((g) => g.displayName && g.members.includes(member)).map((g) => g.displayName).sort();

/** The namespace's ManagedGroups, listed through the API server at each call. */
export function kubeGroupSource(client: KubeClient): GroupSource {
  const s = new KubeStore(client);
  return {
    async groupsOf(namespace, managedUserName) {
      const groups = (await s.list('managedgroups', namespace)).flatMap((g) => membershipOf(g.spec) ?? []);
      return namesOfGroupsWith(groups, managedUserName);
    },
  };
}

/** displayNames of the namespace's groups that have the ManagedUser (by metadata.name) as a member, sorted. */
export function groupsOfUser(source: GroupSource, namespace: string, managedUserName: string): Promise<string[]> {
  return source.groupsOf(namespace, managedUserName);
}

/**
 * Every ManagedGroup of the cluster from a watch, indexed by `namespace/member`: a login's group
 * lookup is one map read. A change to a group reaches the next login as soon as its watch event
 * arrives. Unsynced or unhealthy, it answers through the API server like kubeGroupSource.
 */
export class ManagedGroupCache implements GroupSource {
  private readonly informer: Informer<KubeObject>;
  private readonly groups = new Map<string, GroupMembership>();
  /** `namespace/member` → keys of the groups listing that member. */
  private readonly byMember = new SetIndex();
  private readonly fallback: GroupSource;

  constructor(client: KubeClient, logger: Logger) {
    this.fallback = kubeGroupSource(client);
    this.informer = new Informer<KubeObject>(client, RESOURCES.ManagedGroup, {}, logger);
    this.informer.on((event, obj) => {
      const key = objectKey(obj);
      this.remove(key);
      if (event === 'delete') return;
      const membership = membershipOf((obj as KubeObject & { spec?: unknown }).spec);
      if (membership && obj.metadata.namespace) this.add(key, obj.metadata.namespace, membership);
    });
  }

  start(): void {
    this.informer.start();
  }
  close(): Promise<void> {
    return this.informer.stop();
  }
  waitForSync(ms: number): Promise<boolean> {
    return this.informer.waitForSync(ms);
  }
  get healthy(): boolean {
    return this.informer.healthy;
  }

  async groupsOf(namespace: string, managedUserName: string): Promise<string[]> {
    if (!this.healthy) return this.fallback.groupsOf(namespace, managedUserName);
    const keys = this.byMember.get(`${namespace}/${managedUserName}`) ?? [];
    return namesOfGroupsWith([...keys].flatMap((k) => this.groups.get(k) ?? []), managedUserName);
  }

  private add(key: string, namespace: string, membership: GroupMembership): void {
    this.groups.set(key, membership);
    for (const m of membership.members) {
      this.byMember.add(`${namespace}/${m}`, key);
    }
  }

  private remove(key: string): void {
    const old = this.groups.get(key);
    if (!old) return;
    this.groups.delete(key);
    const namespace = key.slice(0, key.indexOf('/'));
    for (const m of old.members) {
      this.byMember.delete(`${namespace}/${m}`, key);
    }
  }
}
