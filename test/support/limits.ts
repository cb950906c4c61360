// Rate limits for test servers: tests and benches send everything from 127.0.0.1, one client
// address, so the helpers that start a server lift the limits unless a test sets its own.
import type { RateLimitsInput } from '../../sp-server/limits/settings.ts';

/** High enough that no test or bench from one loopback address is throttled. */
export const TEST_RATE_LIMITS: RateLimitsInput = {
  authorize: { perIP: 1_000_000, perOrganization: 1_000_000 },
  acs: { perIP: 1_000_000, perOrganization: 1_000_000 },
  loginMethods: { perIP: 1_000_000, perOrganization: 1_000_000 },
  token: { perIP: 1_000_000, perOrganization: 1_000_000 },
  scim: { perToken: 1_000_000 },
  pendingLogins: { global: 1_000_000, perIP: 1_000_000 },
};
