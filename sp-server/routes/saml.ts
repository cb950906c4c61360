// The SAML service provider: metadata, the Assertion Consumer Service, and the test link.
import { groupsOfUser } from '../scim/groups.ts';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isSAMLProfile } from '../../crds/api/index.ts';
import { domainOf, type ProfileRef } from '../config/store.ts';
import type { AppContext, CodeGrant, PendingLogin, SurfaceOptions } from '../context.ts';
import { errorPage, testResultPage } from '../html.ts';
import { BROWSER_COOKIE, html, randomToken, readCookie, refusalReply, sha256b64url } from '../http-util.ts';
import { rememberRestart } from '../login/restart.ts';
import { SP_METADATA_CONTENT_TYPE, spMetadata } from '../saml/metadata.ts';
import { startLogin } from '../login/start.ts';
import { REFUSALS, type RefusalCode } from '../refusals.ts';
import { isSamlValidationError, quote, type SamlValidationError } from '../saml/errors.ts';
import { peekInResponseTo, type AuthnRequestFacts, type ValidatedAssertion } from '../saml/validate.ts';
import { storeReplayCache } from '../state/store.ts';
import { subjectOf, type UserRecord } from '../users/directory.ts';
import { ServerBusyError } from '../saml/validation-pool.ts';

const profileParams = z.object({ namespace: z.string().min(1).max(63), profile: z.string().min(1).max(253) });

/** A refusal decided by the sp-server after the SAML checks (who the user is), or before them. */
class LoginRefusal extends Error {
  readonly code: RefusalCode;
  readonly hint: string;
  constructor(code: RefusalCode, hint: string) {
    super(`${code}: ${hint}`);
    this.code = code;
    this.hint = hint;
  }
}

export const samlSurface: FastifyPluginAsync<SurfaceOptions> = async (app, { ctx: gh }) => {
  const replay = storeReplayCache(gh.store);

  app.get('/saml/:namespace/:profile/metadata', { schema: { params: profileParams } }, async (req, reply) => {
    const { namespace, profile } = req.params as z.infer<typeof profileParams>;
    const ref = gh.config.profile(namespace, profile);
    if (!ref) return reply.code(404).type('text/plain').send('no such SSO profile\n');
    return reply.type(`${SP_METADATA_CONTENT_TYPE}; charset=utf-8`).header('cache-control', 'no-cache').send(spMetadata(ref.profile));
  });

  app.get('/test/:token', { schema: { params: z.object({ token: z.string().min(16).max(256) }) } }, async (req, reply) => {
    const { token } = req.params as { token: string };
    const ref = gh.config.profileForTestToken(token);
    if (!ref || !ref.profile.test) return html(reply, 404, errorPage('Test link not valid', 'This test link is unknown or no longer active. Copy the current link from the SSOProfile status.'));
    const link = ref.profile.test;
    if (!testLinkUsable(link, Date.now())) {
      // An expired link changes nothing, not even the test result: it is only reported.
      const hint = link.expiresAt ? `the test link expired at ${link.expiresAt}` : 'the test link has no expiry (rendered by an older operator)';
      gh.metrics.samlRejections.inc({ code: REFUSALS.TEST_LINK_EXPIRED.metricLabel });
      gh.status.recordFailure(ref.org.namespace, ref.profile.name, 'TEST_LINK_EXPIRED', hint);
      req.log.warn({ profile: `${ref.org.namespace}/${ref.profile.name}`, code: 'TEST_LINK_EXPIRED', hint }, 'test link refused');
      return refusalReply(reply, 'TEST_LINK_EXPIRED', 'Test link expired');
    }
    const email = link.email.toLowerCase();
    void gh.status.recordTest(ref.org.namespace, ref.profile.name, { result: 'Pending', email, attemptedTime: new Date().toISOString() });
    return startLogin(gh, req, reply, ref, { kind: 'test', loginHint: email, testLink: sha256b64url(token) });
  });

  app.post('/saml/:namespace/:profile/acs', { schema: { params: profileParams }, bodyLimit: gh.acsBodyLimitBytes }, async (req, reply) => {
    const stop = gh.metrics.acsDuration.startTimer();
    try {
      return await acs(gh, req, reply);
    } catch (err) {
      if (!(err instanceof ServerBusyError)) throw err;
      // Nothing was checked and the pending login is untouched: the browser may post again.
      gh.metrics.samlRejections.inc({ code: REFUSALS.SERVER_BUSY.metricLabel });
      req.log.warn({ code: 'SERVER_BUSY', hint: err.message }, 'SAML response refused unchecked: validation queue full');
      return refusalReply(reply.header('retry-after', '1'), 'SERVER_BUSY');
    } finally {
      stop();
    }
  });

  async function acs(gh: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { namespace, profile: name } = req.params as z.infer<typeof profileParams>;
    const found = gh.config.profile(namespace, name);
    if (!found || !isSAMLProfile(found.profile)) return refusalReply(reply, 'PROFILE_NOT_FOUND');
    const ref = { org: found.org, profile: found.profile };
    const body = (req.body ?? {}) as Record<string, unknown>;
    const samlResponse = typeof body.SAMLResponse === 'string' ? body.SAMLResponse : '';
    if (!samlResponse) return refuse(req, reply, ref, new LoginRefusal('MALFORMED_RESPONSE', 'the POST carries no SAMLResponse'), undefined);

    const inResponseTo = peekInResponseTo(samlResponse);
    if (inResponseTo === null) {
      // Only a response that passed every check but InResponseTo (its assertion ID now spent)
      // restarts a login: the validator raises UNSOLICITED_RESPONSE for nothing else.
      try {
        await gh.validate(samlResponse, { profile: ref.profile, organization: namespace, expectedInResponseTo: null, replay });
      } catch (err) {
        if (isSamlValidationError(err) && err.code === 'UNSOLICITED_RESPONSE') return unsolicited(req, reply, ref);
        if (isSamlValidationError(err)) return refuse(req, reply, ref, err, undefined);
        throw err;
      }
      return refuse(req, reply, ref, new LoginRefusal('UNSOLICITED_RESPONSE', 'a response without InResponseTo was not refused by the validator'), undefined);
    }

    const pendingKey = `authn:${inResponseTo}`;
    const pendingRaw = await gh.store.get(pendingKey);
    const pending = pendingRaw ? (JSON.parse(pendingRaw) as PendingLogin) : undefined;

    let assertion: ValidatedAssertion;
    try {
      // Without a pending request the response is still validated (so a replay is reported as
      // one), but it is refused afterwards.
      assertion = await gh.validate(samlResponse, { profile: ref.profile, organization: namespace, expectedInResponseTo: inResponseTo, replay, ...(pending ? { authnRequest: authnRequestOf(pending) } : {}) });
      if (!pending) throw new LoginRefusal('UNSOLICITED_RESPONSE', `InResponseTo ${quote(inResponseTo)} matches no pending sign-in (expired, already used, or never started here)`);
      if (pending.namespace !== namespace || pending.profile !== name) {
        throw new LoginRefusal('IN_RESPONSE_TO_MISMATCH', `the sign-in was started for profile ${pending.namespace}/${pending.profile}, the response came to ${namespace}/${name}`);
      }
      const cookie = readCookie(req, BROWSER_COOKIE, gh.secureCookies);
      if (!cookie || sha256b64url(cookie) !== pending.browser) {
        throw new LoginRefusal('BROWSER_MISMATCH', 'the response was posted by a browser other than the one that started the sign-in');
      }
      // One response per pending request, even across replicas.
      if ((await gh.store.take(pendingKey)) === null) throw new LoginRefusal('ASSERTION_REPLAYED', 'the pending sign-in was already completed');
    } catch (err) {
      if (err instanceof LoginRefusal || isSamlValidationError(err)) return refuse(req, reply, ref, err, pending);
      throw err;
    }

    try {
      const email = assertion.nameID.trim().toLowerCase();
      if (pending.kind === 'test') {
        const link = ref.profile.test;
        // The link must still be the one the login started from, and unexpired, when the IdP answers.
        if (!link || !testLinkUsable(link, Date.now()) || sha256b64url(link.token) !== pending.testLink) {
          throw new LoginRefusal('TEST_LINK_EXPIRED', 'the test link expired or was renewed while the test login was under way');
        }
        if (email !== pending.loginHint) throw new LoginRefusal('TEST_USER_MISMATCH', `the IdP signed in ${quote(email)}, the test expects ${quote(pending.loginHint)}`);
      }
      // A test login only records its result: it never provisions a user (nor issues a code, below).
      const user = await resolveUser(gh, ref, email, assertion, pending.kind !== 'test');
      const roles = await rolesFor(ref, user, assertion);
      if (pending.kind === 'test') {
        gh.metrics.logins.inc({ kind: 'test' });
        const jitNote = user.name ? '' : ' Not a ManagedUser yet: JIT provisioning creates one at the first real sign-in.';
        const message = `Signed in as ${email} through ${ref.profile.idp.entityID}; roles: ${roles.join(', ') || 'none'}.${jitNote}`;
        await gh.status.recordTest(namespace, name, {
          result: 'Succeeded',
          email,
          message,
          attemptedTime: new Date(pending.createdAt).toISOString(),
          completedTime: new Date().toISOString(),
        });
        req.log.info({ profile: `${namespace}/${name}`, email }, 'test login succeeded');
        return html(reply, 200, testResultPage(true, message));
      }
      const code = randomToken();
      const grant: CodeGrant = {
        clientId: pending.clientId as string,
        redirectUri: pending.redirectUri as string,
        codeChallenge: pending.codeChallenge as string,
        ...(pending.nonce !== undefined ? { nonce: pending.nonce } : {}),
        ...(pending.scope !== undefined ? { scope: pending.scope } : {}),
        sub: subjectOf(user),
        email,
        org: namespace,
        roles,
        ...(user.displayName ? { name: user.displayName } : {}),
        authTime: Math.floor(assertion.authnInstant.getTime() / 1000),
      };
      await gh.store.put(`code:${sha256b64url(code)}`, JSON.stringify(grant), gh.lifetimes.codeMs);
      gh.metrics.logins.inc({ kind: 'login' });
      req.log.info({ profile: `${namespace}/${name}`, email, client: grant.clientId, assertionID: assertion.assertionID }, 'login succeeded');
      const target = new URL(grant.redirectUri);
      target.searchParams.set('code', code);
      if (pending.state !== undefined) target.searchParams.set('state', pending.state);
      target.searchParams.set('iss', gh.issuer);
      return reply.code(303).header('cache-control', 'no-store').header('location', target.toString()).send();
    } catch (err) {
      if (err instanceof LoginRefusal) return refuse(req, reply, ref, err, pending);
      throw err;
    }
  }

  /** The NameID must be a ManagedUser of this organization (or JIT creates one, when `provision`; a test only says it would). */
  async function resolveUser(gh: AppContext, ref: ProfileRef, email: string, assertion: ValidatedAssertion, provision: boolean): Promise<UserRecord> {
    const domain = domainOf(email);
    const namespace = ref.org.namespace;
    if (!ref.org.verifiedDomains.includes(domain)) {
      const other = gh.config.organizationForDomain(domain);
      if (other) throw new LoginRefusal('USER_OTHER_ORGANIZATION', `the IdP sent ${quote(email)}, whose domain belongs to another organization`);
      throw new LoginRefusal('DOMAIN_NOT_VERIFIED', `the IdP sent ${quote(email)}; the domain ${quote(domain)} is not verified by this organization`);
    }
    const users = gh.users.byEmail(email);
    let user = users.find((u) => u.namespace === namespace);
    if (!user) {
      if (!ref.profile.jit.enabled || !ref.profile.domains.includes(domain)) {
        throw new LoginRefusal('USER_NOT_MANAGED', `the IdP sent ${quote(email)}, which is not a ManagedUser of ${namespace}`);
      }
      if (!gh.jitProvisioning) {
        throw new LoginRefusal('USER_NOT_MANAGED', `the IdP sent ${quote(email)}, which is not a ManagedUser of ${namespace}; the profile enables JIT but this Gatehouse installation does not (spServer.jitProvisioning)`);
      }
      const displayName = firstAttr(assertion, ['displayName', 'name', 'http://schemas.microsoft.com/identity/claims/displayname']);
      if (!provision) return unprovisionedUser(namespace, email, ref.profile.jit.defaultRoles);
      user = await gh.users.create(namespace, email, ref.profile.jit.defaultRoles, displayName);
      gh.logger.info({ namespace, email, user: user.name }, 'ManagedUser created on first login (JIT)');
    }
    if (!user.active) throw new LoginRefusal('USER_INACTIVE', `the ManagedUser ${namespace}/${user.name} is deactivated (spec.active: false)`);
    return user;
  }

  async function rolesFor(ref: ProfileRef, user: UserRecord, assertion: ValidatedAssertion): Promise<string[]> {
    const roles = new Set(user.roles);
    const mapping = ref.profile.roleMapping;
    if (mapping) {
      const values = new Set(assertion.attributes[mapping.attribute] ?? []);
      for (const group of await managedGroupsOf(ref, user)) values.add(group);
      for (const rule of mapping.rules) if (values.has(rule.value)) for (const r of rule.roles) roles.add(r);
    }
    return [...roles].sort();
  }

  /** Names of the organization's ManagedGroups (SCIM Groups) listing the user. */
  async function managedGroupsOf(ref: ProfileRef, user: UserRecord): Promise<string[]> {
    if (!gh.groups || !user.name) return [];
    try {
      return await groupsOfUser(gh.groups, ref.org.namespace, user.name);
    } catch (err) {
      // Roles from the assertion still apply; a login does not fail because groups are unreadable.
      gh.logger.warn({ err, namespace: ref.org.namespace, user: user.name }, 'ManagedGroups unreadable; role mapping uses the assertion only');
      return [];
    }
  }

  async function unsolicited(req: FastifyRequest, reply: FastifyReply, ref: ProfileRef): Promise<FastifyReply> {
    // Never a login: the browser starts over as an SP-initiated login through the application.
    gh.metrics.unsolicited.inc();
    gh.metrics.samlRejections.inc({ code: REFUSALS.UNSOLICITED_RESPONSE.metricLabel });
    const client = [...gh.clients.values()].find((c) => c.idp_initiated_default);
    req.log.warn({ profile: `${ref.org.namespace}/${ref.profile.name}`, code: 'UNSOLICITED_RESPONSE', restartClient: client?.client_id ?? null }, 'IdP-initiated response not accepted; restarting as SP-initiated');
    if (!client?.initiate_login_uri) {
      return html(reply, 400, errorPage('Start from the application', 'Sign-ins started at your identity provider are not accepted here. Open the application and choose single sign-on.', 'UNSOLICITED_RESPONSE'));
    }
    await rememberRestart(gh, reply, ref);
    const target = new URL(client.initiate_login_uri);
    target.searchParams.set('iss', gh.issuer);
    return reply.code(303).header('cache-control', 'no-store').header('location', target.toString()).send();
  }

  async function refuse(req: FastifyRequest, reply: FastifyReply, ref: ProfileRef, err: SamlValidationError | LoginRefusal, pending: PendingLogin | undefined): Promise<FastifyReply> {
    const { code, hint } = err;
    const refusal = REFUSALS[code];
    const namespace = ref.org.namespace;
    const name = ref.profile.name;
    gh.metrics.samlRejections.inc({ code: refusal.metricLabel });
    req.log.warn({ profile: `${namespace}/${name}`, code, hint, kind: pending?.kind ?? null }, 'SAML response refused');
    // The cause behind a deliberately uniform refusal (DECRYPTION_FAILED) is for operators only.
    if (err.cause !== undefined) req.log.debug({ profile: `${namespace}/${name}`, code, cause: String(err.cause) }, 'SAML refusal cause');
    gh.status.recordFailure(namespace, name, code, hint);
    if (pending?.kind === 'test') {
      const message = `${hint}. ${refusal.adminAdvice}`.slice(0, 1024);
      await gh.status.recordTest(namespace, name, {
        result: 'Failed',
        email: pending.loginHint ?? '',
        errorCode: code,
        message,
        attemptedTime: new Date(pending.createdAt).toISOString(),
        completedTime: new Date().toISOString(),
      });
      return html(reply, 400, testResultPage(false, message, code));
    }
    return refusalReply(reply, code);
  }
};

/** What the pending login's AuthnRequest asked of the IdP, for the AuthnInstant checks. */
function authnRequestOf(pending: PendingLogin): AuthnRequestFacts {
  return { requestedAt: new Date(pending.createdAt), forceAuthn: pending.forceAuthn === true, ...(pending.maxAge !== undefined ? { maxAgeSeconds: pending.maxAge } : {}) };
}

/** The user JIT would create, kept in memory only: what a test login reports without creating it. */
function unprovisionedUser(namespace: string, email: string, roles: string[]): UserRecord {
  return { metadata: { name: '', namespace, uid: '' }, namespace, name: '', uid: '', email, active: true, roles };
}

/** A test link works until its expiry; one rendered without an expiry does not work at all. */
export function testLinkUsable(link: { expiresAt?: string | undefined }, nowMs: number): boolean {
  return link.expiresAt !== undefined && nowMs < Date.parse(link.expiresAt);
}

function firstAttr(a: ValidatedAssertion, names: string[]): string | undefined {
  for (const n of names) {
    const v = a.attributes[n]?.[0];
    if (v) return v.slice(0, 256);
  }
  return undefined;
}
