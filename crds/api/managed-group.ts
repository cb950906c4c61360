// ManagedGroup: a group of the organization's managed users, as an identity provider provisions
// it through SCIM. Group display names feed the SSOProfile role mapping at login, next to (or
// instead of) the groups an IdP sends in the SAML assertion.
import { z } from 'zod';
import { commonStatus } from './common.ts';

/** A ManagedUser's metadata.name (DNS-1123 subdomain). */
const managedUserName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);

export const managedGroupSpec = z
  .object({
    displayName: z
      .string()
      .min(1)
      .max(256)
      .meta({ description: 'The group\'s name as the IdP knows it; the value SSOProfile role mapping rules match.' }),
    externalId: z.string().max(256).optional().meta({ description: 'The IdP\'s own identifier for the group (SCIM externalId).' }),
    members: z
      .array(managedUserName)
      .max(10000)
      .optional()
      .meta({ 'x-kubernetes-list-type': 'set', description: 'Names of the ManagedUsers of this namespace that belong to the group.' }),
  })
  .meta({ description: 'A group of this organization\'s managed users.' });

export const managedGroupStatus = z
  .object({ ...commonStatus })
  .meta({ description: 'What the operator observed.' });

export type ManagedGroupSpec = z.infer<typeof managedGroupSpec>;
export type ManagedGroupStatus = z.infer<typeof managedGroupStatus>;
