// How much one client address, one organization or one SCIM token may ask of the public surface,
// and how many pending logins may wait for an IdP: the defaults, and the schema of the
// --rate-limits flag (the chart's spServer.rateLimits, as JSON).
import { z } from 'zod';

const count = z.int().min(1).max(10_000_000);
const perIPAndOrganization = z.strictObject({ perIP: count.optional(), perOrganization: count.optional() });

export const rateLimitsSchema = z.strictObject({
  /** The window every request count below is measured over. */
  windowSeconds: z.int().min(1).max(3600).optional(),
  authorize: perIPAndOrganization.optional(),
  acs: perIPAndOrganization.optional(),
  loginMethods: perIPAndOrganization.optional(),
  token: perIPAndOrganization.optional(),
  scim: z.strictObject({ perToken: count.optional() }).optional(),
  /** Logins started (AuthnRequests waiting for the IdP) over the pending-login lifetime. */
  pendingLogins: z.strictObject({ global: count.optional(), perIP: count.optional() }).optional(),
});

export type RateLimitsInput = z.infer<typeof rateLimitsSchema>;

export interface RateLimits {
  windowSeconds: number;
  authorize: { perIP: number; perOrganization: number };
  acs: { perIP: number; perOrganization: number };
  loginMethods: { perIP: number; perOrganization: number };
  token: { perIP: number; perOrganization: number };
  scim: { perToken: number };
  pendingLogins: { global: number; perIP: number };
}

/**
 * Production defaults, per minute. Browsers of a whole office may share one NAT address, so the
 * per-IP limits of the browser paths allow a busy office; login-methods and /token are called by
 * the application's backend, which is one address for all its users, so their per-IP limits are
 * as high as their per-organization ones.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  windowSeconds: 60,
  authorize: { perIP: 120, perOrganization: 1200 },
  acs: { perIP: 120, perOrganization: 1200 },
  loginMethods: { perIP: 1200, perOrganization: 1200 },
  token: { perIP: 1200, perOrganization: 1200 },
  scim: { perToken: 600 },
  pendingLogins: { global: 50_000, perIP: 300 },
};

/** The defaults with what an installation set; unknown or malformed settings are refused. */
export function resolveRateLimits(input: RateLimitsInput = {}): RateLimits {
  const d = DEFAULT_RATE_LIMITS;
  const v = rateLimitsSchema.parse(input);
  return {
    windowSeconds: v.windowSeconds ?? d.windowSeconds,
    authorize: { ...d.authorize, ...v.authorize },
    acs: { ...d.acs, ...v.acs },
    loginMethods: { ...d.loginMethods, ...v.loginMethods },
    token: { ...d.token, ...v.token },
    scim: { ...d.scim, ...v.scim },
    pendingLogins: { ...d.pendingLogins, ...v.pendingLogins },
  };
}

/** The --rate-limits flag: a JSON object of the settings above (empty: the defaults). */
export function parseRateLimitsFlag(json: string | undefined): RateLimits {
  if (!json?.trim()) return resolveRateLimits();
  return resolveRateLimits(rateLimitsSchema.parse(JSON.parse(json)));
}
