// The login-methods policy API: the application asks, for an email, whether password sign-in is
// allowed and whether SSO is available or enforced. JSON in, JSON out, errors included.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { domainOf, EMAIL } from '../config/store.ts';
import type { SurfaceOptions } from '../context.ts';
import { jsonErrorHandler } from '../error-handlers.ts';
import { authorizeURL } from '../urls.ts';

export const loginMethodsSurface: FastifyPluginAsync<SurfaceOptions> = async (app, { ctx: gh }) => {
  app.setErrorHandler(jsonErrorHandler);

  app.get('/api/v1/login-methods', { schema: { querystring: z.object({ email: z.string().min(3).max(320).regex(EMAIL) }) } }, async (req) => {
    const { email } = req.query as { email: string };
    const lower = email.toLowerCase();
    const ref = gh.config.profileForEmail(lower);
    const users = gh.users.byEmail(lower);
    // A user belongs to the organization that verified the email's domain; other organizations' entries do not count.
    const org = gh.config.organizationForDomain(domainOf(lower));
    const user = users.find((u) => u.namespace === org?.namespace) ?? (org ? undefined : users[0]);
    if (user && !user.active) {
      return { email: lower, password: { allowed: false }, sso: { available: false }, reason: 'Inactive' };
    }
    const ssoAvailable = ref !== undefined && (user !== undefined || (ref.profile.jit.enabled && gh.jitProvisioning));
    return {
      email: lower,
      // The operator decided; the server only reads its decision.
      password: { allowed: user?.sso?.enforced !== true },
      sso: ssoAvailable
        ? {
            available: true,
            enforced: user?.sso?.enforced === true,
            organization: ref.org.namespace,
            profile: ref.profile.name,
            ...(ref.profile.displayName ? { displayName: ref.profile.displayName } : {}),
            authorizeURL: authorizeURL(gh.issuer, lower),
          }
        : { available: false },
      ...(user?.sso?.reason ? { reason: user.sso.reason } : {}),
    };
  });
};
