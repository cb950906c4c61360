// What an end-user page shows around its message: the organization's name (the namespace's
// display name, rendered by the operator) and the way back to the application, taken only from a
// registered OAuth client, so a page can never be made to link elsewhere.
import type { RenderedOrganization } from '../crds/api/index.ts';
import type { AppContext } from './context.ts';
import type { PageFrame } from './html.ts';
import type { OAuthClient } from './oauth/clients.ts';

export function organizationName(org: RenderedOrganization): string {
  return org.displayName ?? org.namespace;
}

/**
 * The application's address: the origin of the login's redirect URI when it is registered for the
 * client, else the client's initiate_login_uri; nothing when neither is known.
 */
export function applicationURL(client: OAuthClient | undefined, redirectUri?: string): string | undefined {
  if (!client) return undefined;
  if (redirectUri !== undefined && client.redirect_uris.includes(redirectUri)) return `${new URL(redirectUri).origin}/`;
  return client.initiate_login_uri;
}

/** The frame of a page for a login of `org` (when known) started by `clientId` (when known). */
export function pageFrame(gh: Pick<AppContext, 'clients'>, org: RenderedOrganization | undefined, login: { clientId?: string | undefined; redirectUri?: string | undefined } = {}): PageFrame {
  const client = login.clientId === undefined ? undefined : gh.clients.get(login.clientId);
  return { organization: org ? organizationName(org) : undefined, backURL: applicationURL(client, login.redirectUri) };
}
