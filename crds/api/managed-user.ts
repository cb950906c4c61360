// ManagedUser: a user of the organization. The operator decides in status whether SSO is
// enforced for them; the sp-server acts on that decision and never recomputes it.
import { z } from 'zod';
import { commonStatus, email, roleName } from './common.ts';

export const SSO_OVERRIDES = ['Inherit', 'Enabled', 'Disabled'] as const;

/** Why the operator decided what it did about a user's SSO. */
export const SSO_DECISION_REASONS = [
  'DomainEnforced',
  'OverrideEnabled',
  'OverrideDisabled',
  'ExemptAdmin',
  'DomainNotVerified',
  'NoProfile',
  'NotEnforced',
  'Inactive',
] as const;

export const managedUserSpec = z
  .object({
    email: email.meta({ description: 'The user\'s email; the SAML NameID the IdP must send. Compared case-insensitively.' }),
    displayName: z.string().max(256).optional(),
    roles: z
      .array(roleName)
      .max(64)
      .optional()
      .meta({ 'x-kubernetes-list-type': 'set', description: 'Application roles granted to the user.' }),
    sso: z
      .enum(SSO_OVERRIDES)
      .default('Inherit')
      .meta({
        description:
          'Per-user override. Inherit follows the domain\'s enforcement; Enabled requires SSO for this user once a profile covers the domain; Disabled keeps password login (SSO stays available).',
      }),
    active: z
      .boolean()
      .default(true)
      .meta({ description: 'false deprovisions the user: no login of any kind.' }),
  })
  .meta({ description: 'A user of this organization.' });

/** The operator's decision about a user's SSO; the sp-server acts on it at login. */
export const ssoDecision = z.object({
  available: z.boolean().meta({ description: 'An SSOProfile of the organization serves this user\'s domain.' }),
  enforced: z.boolean().meta({ description: 'Password login is refused; the user must sign in through SSO.' }),
  profile: z.string().max(253).optional().meta({ description: 'The SSOProfile that serves this user.' }),
  reason: z.enum(SSO_DECISION_REASONS),
  message: z.string().max(1024).optional(),
  since: z.iso.datetime({ offset: true }).optional().meta({ description: 'When enforced last changed.' }),
});

export const managedUserStatus = z
  .object({
    ...commonStatus,
    sso: ssoDecision.optional(),
  })
  .meta({ description: 'The operator\'s decision about this user.' });

export type ManagedUserSpec = z.infer<typeof managedUserSpec>;
export type ManagedUserStatus = z.infer<typeof managedUserStatus>;
export type SSOOverride = (typeof SSO_OVERRIDES)[number];
export type SSODecisionReason = (typeof SSO_DECISION_REASONS)[number];
