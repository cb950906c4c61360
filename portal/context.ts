// What every part of the portal shares: settings, the Kubernetes client, sessions, setup links,
// and the optional mailer and sign-in activity source.
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import type { OAuthClient } from '../sp-server/oauth/clients.ts';
import type { StateStore } from '../sp-server/state/store.ts';
import type { PortalOptions } from './options.ts';
import type { SessionStore } from './session/sessions.ts';
import type { SetupLinks } from './setup-links/links.ts';

/** Sends the test link of a connection by email (portal/mail). */
export interface Mailer {
  send(message: { to: string; subject: string; text: string; html?: string }): Promise<void>;
}

/** The organization's latest sign-ins and refusals, as the sp-server recorded them. */
export interface ActivityEntry {
  time: string;
  outcome: 'signed-in' | 'refused' | 'test-passed' | 'test-failed';
  email?: string | undefined;
  profile?: string | undefined;
  protocol: 'saml' | 'oidc';
  code?: string | undefined;
  message?: string | undefined;
  advice?: string | undefined;
}
export interface ActivitySource {
  latest(namespace: string, limit: number): Promise<ActivityEntry[]>;
}

export interface PortalContext {
  options: PortalOptions;
  kube: KubeClient;
  log: Logger;
  /** Short-lived state: sessions and sign-in attempts (memory, or Redis for several replicas). */
  state: StateStore;
  sessions: SessionStore;
  setupLinks: SetupLinks;
  /** OAuth clients that may mint setup links, by client_id. */
  linkMinters: ReadonlyMap<string, OAuthClient>;
  mailer?: Mailer | undefined;
  activity?: ActivitySource | undefined;
}

export interface RouteOptions {
  ctx: PortalContext;
}
