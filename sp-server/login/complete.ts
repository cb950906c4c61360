// The end of every SSO login, whatever the upstream protocol: once the SAML ACS or the OIDC
// callback has established who signed in, this decides whether that user may (domain, ManagedUser
// or JIT, active), which roles they get, and answers with an authorization code for the
// application or a test result; and it records every refusal the same way.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { domainOf, type ProfileRef } from '../config/store.ts';
import type { AppContext, CodeGrant, PendingLogin } from '../context.ts';
import { recordRefusal, recordSuccess } from '../activity/record.ts';
import { testResultPage } from '../html.ts';
import { html, randomToken, refusalReply, sha256b64url } from '../http-util.ts';
import { pageFrame } from '../page-frame.ts';
import { REFUSALS, type RefusalCode } from '../refusals.ts';
import { quote } from '../saml/errors.ts';
import { groupsOfUser } from '../scim/groups.ts';
import { subjectOf, type UserRecord } from '../users/directory.ts';

/** Who the upstream signed in, as both protocols establish it. */
export interface UpstreamIdentity {
  /** Lower-cased. */
  email: string;
  displayName?: string | undefined;
  /** The values of the claim or attribute named `attribute` (role mapping reads roleMapping.attribute). */
  groupValues(attribute: string): readonly string[];
  /** When the user authenticated at the upstream. */
  authTime: Date;
  /** The upstream as an administrator knows it (SAML entity ID, OIDC issuer), for the test result. */
  upstream: string;
  /** Extra fields for the login's log line (the assertion ID, the token's subject). */
  logFields?: Record<string, unknown>;
}

/** A refusal decided by the sp-server itself: which profile, which browser, who the user is. */
export class LoginRefusal extends Error {
  readonly code: RefusalCode;
  readonly hint: string;
  constructor(code: RefusalCode, hint: string, options?: { cause?: unknown }) {
    super(`${code}: ${hint}`, options);
    this.code = code;
    this.hint = hint;
  }
}

/** Anything with a stable code and a hint for the administrator: a LoginRefusal or the SAML validator's errors. */
export interface CodedRefusal {
  code: RefusalCode;
  hint: string;
  cause?: unknown;
}

/** A test link works until its expiry; one rendered without an expiry does not work at all. */
export function testLinkUsable(link: { expiresAt?: string | undefined }, nowMs: number): boolean {
  return link.expiresAt !== undefined && nowMs < Date.parse(link.expiresAt);
}

/**
 * Completes a login whose upstream checks passed and whose pending login was consumed: a test
 * result page for a test login, otherwise a code and the redirect back to the application.
 * Refusals are recorded and answered here too.
 */
export async function completeLogin(gh: AppContext, req: FastifyRequest, reply: FastifyReply, ref: ProfileRef, pending: PendingLogin, identity: UpstreamIdentity): Promise<FastifyReply> {
  const namespace = ref.org.namespace;
  const name = ref.profile.name;
  try {
    const email = identity.email;
    if (pending.kind === 'test') {
      const link = ref.profile.test;
      // The link must still be the one the login started from, and unexpired, when the IdP answers.
      if (!link || !testLinkUsable(link, Date.now()) || sha256b64url(link.token) !== pending.testLink) {
        throw new LoginRefusal('TEST_LINK_EXPIRED', 'the test link expired or was renewed while the test login was under way');
      }
      if (email !== pending.loginHint) throw new LoginRefusal('TEST_USER_MISMATCH', `the IdP signed in ${quote(email)}, the test expects ${quote(pending.loginHint)}`);
    }
    // A test login only records its result: it never provisions a user (nor issues a code, below).
    const user = await resolveUser(gh, ref, identity, pending.kind !== 'test');
    const roles = await rolesFor(gh, ref, user, identity);
    if (pending.kind === 'test') {
      gh.metrics.logins.inc({ kind: 'test' });
      const jitNote = user.name ? '' : ' Not a ManagedUser yet: JIT provisioning creates one at the first real sign-in.';
      const message = `Signed in as ${email} through ${identity.upstream}; roles: ${roles.join(', ') || 'none'}.${jitNote}`;
      await gh.status.recordTest(namespace, name, {
        result: 'Succeeded',
        email,
        message,
        attemptedTime: new Date(pending.createdAt).toISOString(),
        completedTime: new Date().toISOString(),
      });
      req.log.info({ profile: `${namespace}/${name}`, email }, 'test login succeeded');
      recordSuccess(gh.activity, ref, 'test-passed', email);
      return html(reply, 200, testResultPage(true, message, undefined, pageFrame(gh, ref.org)));
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
      authTime: Math.floor(identity.authTime.getTime() / 1000),
    };
    await gh.store.put(`code:${sha256b64url(code)}`, JSON.stringify(grant), gh.lifetimes.codeMs);
    gh.metrics.logins.inc({ kind: 'login' });
    recordSuccess(gh.activity, ref, 'signed-in', email);
    req.log.info({ profile: `${namespace}/${name}`, email, client: grant.clientId, ...identity.logFields }, 'login succeeded');
    const target = new URL(grant.redirectUri);
    target.searchParams.set('code', code);
    if (pending.state !== undefined) target.searchParams.set('state', pending.state);
    target.searchParams.set('iss', gh.issuer);
    return reply.code(303).header('cache-control', 'no-store').header('location', target.toString()).send();
  } catch (err) {
    if (err instanceof LoginRefusal) return refuseLogin(gh, req, reply, ref, err, pending, undefined, identity.email);
    throw err;
  }
}

/** The user must be a ManagedUser of this organization (or JIT creates one, when `provision`; a test only says it would). */
async function resolveUser(gh: AppContext, ref: ProfileRef, identity: UpstreamIdentity, provision: boolean): Promise<UserRecord> {
  const email = identity.email;
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
    if (!provision) return unprovisionedUser(namespace, email, ref.profile.jit.defaultRoles);
    user = await gh.users.create(namespace, email, ref.profile.jit.defaultRoles, identity.displayName);
    gh.logger.info({ namespace, email, user: user.name }, 'ManagedUser created on first login (JIT)');
  }
  if (!user.active) throw new LoginRefusal('USER_INACTIVE', `the ManagedUser ${namespace}/${user.name} is deactivated (spec.active: false)`);
  return user;
}

async function rolesFor(gh: AppContext, ref: ProfileRef, user: UserRecord, identity: UpstreamIdentity): Promise<string[]> {
  const roles = new Set(user.roles);
  const mapping = ref.profile.roleMapping;
  if (mapping) {
    const values = new Set(identity.groupValues(mapping.attribute));
    for (const group of await managedGroupsOf(gh, ref, user)) values.add(group);
    for (const rule of mapping.rules) if (values.has(rule.value)) for (const r of rule.roles) roles.add(r);
  }
  return [...roles].sort();
}

/** Names of the organization's ManagedGroups (SCIM Groups) listing the user. */
async function managedGroupsOf(gh: AppContext, ref: ProfileRef, user: UserRecord): Promise<string[]> {
  if (!gh.groups || !user.name) return [];
  try {
    return await groupsOfUser(gh.groups, ref.org.namespace, user.name);
  } catch (err) {
    // Roles from the upstream still apply; a login does not fail because groups are unreadable.
    gh.logger.warn({ err, namespace: ref.org.namespace, user: user.name }, 'ManagedGroups unreadable; role mapping uses the upstream\'s groups only');
    return [];
  }
}

/** The user JIT would create, kept in memory only: what a test login reports without creating it. */
function unprovisionedUser(namespace: string, email: string, roles: string[]): UserRecord {
  return { metadata: { name: '', namespace, uid: '' }, namespace, name: '', uid: '', email, active: true, roles };
}

/**
 * Records a refused login (metric, log, status.recentFailures, sign-in activity, and a failed
 * status.test for a test login) and answers the browser: the test result page, or the refusal
 * page of the code. `assertedEmail`: who the IdP signed in, when the refusal came after that.
 */
export async function refuseLogin(
  gh: AppContext,
  req: FastifyRequest,
  reply: FastifyReply,
  ref: ProfileRef,
  err: CodedRefusal,
  pending: PendingLogin | undefined,
  logMessage = 'SAML response refused',
  assertedEmail?: string,
): Promise<FastifyReply> {
  const { code, hint } = err;
  const refusal = REFUSALS[code];
  const namespace = ref.org.namespace;
  const name = ref.profile.name;
  gh.metrics.samlRejections.inc({ code: refusal.metricLabel });
  req.log.warn({ profile: `${namespace}/${name}`, code, hint, kind: pending?.kind ?? null }, logMessage);
  // The cause behind a deliberately uniform refusal (DECRYPTION_FAILED) is for operators only.
  if (err.cause !== undefined) req.log.debug({ profile: `${namespace}/${name}`, code, cause: String(err.cause) }, 'refusal cause');
  gh.status.recordFailure(namespace, name, code, hint);
  recordRefusal(gh.activity, ref, code, pending?.kind === 'test' ? 'test-failed' : 'refused', assertedEmail);
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
    return html(reply, 400, testResultPage(false, message, code, pageFrame(gh, ref.org)));
  }
  return refusalReply(reply, code, undefined, pageFrame(gh, ref.org, pending));
}
