// Every controller the operator runs. Registration order is the order each cache event reaches
// the controllers' watches and the order keys are queued once the caches synced.
import type { ControllerRegistry } from './controller.ts';
import { managedUserController } from './managed-user.ts';
import { renderedConfigController } from './rendered-config.ts';
import { scimTokenController } from './scim-token.ts';
import { ssoProfileController } from './sso-profile/controller.ts';
import { verifiedDomainController } from './verified-domain.ts';

export const CONTROLLERS: ControllerRegistry = {
  Namespace: scimTokenController,
  VerifiedDomain: verifiedDomainController,
  SSOProfile: ssoProfileController,
  ManagedUser: managedUserController,
  Config: renderedConfigController,
};
