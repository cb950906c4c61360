// Group names for role mapping at login: the displayNames of the ManagedGroups (provisioned by
// SCIM) that list the user. The sp-server feeds them to SSOProfile.spec.roleMapping next to the
// groups the IdP sent in the assertion.
import { managedGroupSpec, type ManagedGroupSpec } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { KubeStore } from './store.ts';

/** What role mapping needs of a ManagedGroup, typed by the CRD. */
export type GroupMembership = Required<Pick<ManagedGroupSpec, 'displayName' | 'members'>>;

export interface GroupSource {
  /** Every ManagedGroup of the namespace. */
  groups(namespace: string): Promise<GroupMembership[]>;
}

/** The namespace's ManagedGroups, read through the API server at each login. */
export function kubeGroupSource(client: KubeClient): GroupSource {
  const s = new KubeStore(client);
  return {
    async groups(namespace) {
      return (await s.list('managedgroups', namespace)).flatMap((g) => {
        const spec = managedGroupSpec.safeParse(g.spec);
        return spec.success ? [{ displayName: spec.data.displayName, members: spec.data.members ?? [] }] : [];
      });
    },
  };
}

/** displayNames of the namespace's groups that have the ManagedUser (by metadata.name) as a member, sorted. */
export async function groupsOfUser(source: GroupSource, namespace: string, managedUserName: string): Promise<string[]> {
  const groups = await source.groups(namespace);
  return groups
    .filter((g) => g.displayName && g.members.includes(managedUserName))
    .map((g) => g.displayName)
    .sort();
}
