// The portal's settings, from flags or GATEHOUSE_PORTAL_* environment variables (portal/main.ts),
// checked once at start: a portal that cannot sign anyone in safely refuses to start.
import { z } from 'zod';
import { parseDuration } from '../crds/api/duration.ts';
import { MAX_SETUP_LINK_TTL_MS, MIN_SETUP_LINK_TTL_MS } from './setup-links/links.ts';


export const portalOptions = z
  .object({
    /** The portal's external URL: links, cookies (Secure unless http://localhost) and the OIDC redirect URI. */
    publicURL: z.url().transform((u) => u.replace(/\/$/, '')),
    listenAddress: z.string().default('0.0.0.0:8080'),
    metricsAddress: z.string().default('0.0.0.0:9090'),
    /** Where the chart installed Gatehouse: the setup links' ConfigMap lives here. */
    gatehouseNamespace: z.string().min(1).max(63),
    setupLinksConfigMap: z.string().min(1).max(253).default('gatehouse-portal-setup-links'),
    setupLinkTTLMs: z.number().int().min(MIN_SETUP_LINK_TTL_MS).max(MAX_SETUP_LINK_TTL_MS).default(24 * 3_600_000),
    /** OAuth clients allowed to mint setup links (the sp-server's clients file; `mintSetupLinks: true`). */
    clientsFile: z.string().optional(),
    /** The sp-server's public URL (SCIM base URL, SP metadata); defaults to the OIDC issuer. */
    spServerURL: z.url().transform((u) => u.replace(/\/$/, '')).optional(),
    /** Sign-in through Gatehouse: the sp-server's issuer URL and the portal's client there. */
    oidc: z
      .object({
        issuer: z.url(),
        clientID: z.string().min(1),
        clientSecret: z.string().min(16),
        /** Development only: let openid-client talk to an http:// issuer. */
        allowInsecureIssuer: z.boolean().default(false),
      })
      .optional(),
    /** Development and tests only: accept http:// IdP metadata URLs (the operator must allow them too). */
    allowInsecureMetadataURLs: z.boolean().default(false),
    /** Roles (ManagedUser spec.roles or role mapping) that may administer their organization. */
    adminRoles: z.array(z.string().min(1)).min(1).default(['admin']),
    redisURL: z.string().optional(),
    redisPassword: z.string().optional(),
    /** SMTP for test links, e.g. smtp://mail.example.com:587 (STARTTLS when offered) or smtps://…:465. */
    smtp: z
      .object({
        url: z.string().regex(/^smtps?:\/\//, 'smtp:// or smtps://'),
        from: z.string().min(3),
        user: z.string().optional(),
        password: z.string().optional(),
      })
      .optional(),
    /** The sp-server's internal listener serving sign-in activity, and the token it expects. */
    activity: z.object({ url: z.url(), token: z.string().min(16) }).optional(),
    /** Requests per minute and client address: unauthenticated surfaces, and everything. */
    openRateLimitPerMinute: z.number().int().min(1).default(30),
    rateLimitPerMinute: z.number().int().min(1).default(300),
    sessionIdleMs: z.number().int().min(60_000).default(30 * 60_000),
    sessionMaxMs: z.number().int().min(60_000).default(8 * 3_600_000),
  })
  .strict();

export type PortalOptions = z.infer<typeof portalOptions>;
export type PortalOptionsInput = z.input<typeof portalOptions>;

export function durationMs(text: string): number {
  return parseDuration(text);
}

/** Cookies must be Secure except on http://localhost, where browsers accept Secure cookies anyway. */
export function cookieSecure(publicURL: string): boolean {
  return new URL(publicURL).protocol === 'https:' || new URL(publicURL).hostname === 'localhost';
}
