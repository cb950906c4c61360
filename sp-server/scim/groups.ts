// Group names for role mapping at login: the displayNames of the ManagedGroups (provisioned by
// SCIM) that list the user. The sp-server feeds them to SSOProfile.spec.roleMapping next to the
// groups the IdP sent in the assertion.
import type { KubeClient } from '../../kube/client.ts';
import { KubeStore } from './store.ts';

export interface GroupSource {
  /** Every ManagedGroup of the namespace as { displayName, members }. */
  groups(namespace: string): Promise<Array<{ displayName: string; members: readonly string[] }>>;
}

/** The namespace's ManagedGroups, read through the API server at each login. */
export function kubeGroupSource(client: KubeClient): GroupSource {
  const s = new KubeStore(client);
  return {
    async groups(namespace) {
      return (await s.list('managedgroups', namespace)).map((g) => ({
        displayName: typeof g.spec?.displayName === 'string' ? g.spec.displayName : '',
        members: Array.isArray(g.spec?.members) ? g.spec.members.filter((m): m is string => typeof m === 'string') : [],
      }));
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
