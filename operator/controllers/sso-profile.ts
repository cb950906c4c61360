// SSOProfile: validate the IdP side, check domains, keep the SP key pair, publish endpoints and
// the test link, and drive enforcement as a status-tracked, resumable reconciliation.
import { randomBytes } from 'node:crypto';
import type { EnforcementPhase, ManagedUser, SSOProfile, SSOProfileStatus } from '../../crds/api/index.ts';
import { parseDuration, renderedProfile, renderProfile, SSO_PROFILE_DEFAULTS, type RenderedProfile } from '../../crds/api/index.ts';
import { findCondition, isTrue, mergeConditions, type DesiredCondition } from '../conditions.ts';
import { applyStatus, FIELD_MANAGER, REFS, stableStringify, type Context, type ReconcileResult } from '../context.ts';
import { byAge, decide, emailDomain, timestamp, type ProfileView } from '../decisions.ts';
import { IdPConfigError, judgeCertificates, parseCertificate, parseIdPMetadata, splitPem, type CertificateInfo, type IdPDescriptor } from '../idp/metadata.ts';
import { isNotFound, resourcePath } from '../../kube/client.ts';
import { generateSPKeyPair, type SPKeyPair } from '../sp-keys.ts';

const ENFORCING: readonly EnforcementPhase[] = ['InProgress', 'Enforced'];

export const spKeySecretName = (profile: string): string => `${profile}-sp-key`.slice(0, 253);

export function spEndpoints(publicUrl: string, namespace: string, name: string) {
  const entityID = `${publicUrl}/saml/${namespace}/${name}/metadata`;
  return { entityID, acsURL: `${publicUrl}/saml/${namespace}/${name}/acs`, metadataURL: entityID };
}

/** Verified (and not conflicting) domains of a namespace. */
export function verifiedDomainsOf(ctx: Context, namespace: string): Set<string> {
  const out = new Set<string>();
  for (const vd of ctx.domains.inNamespace(namespace)) if (isTrue(vd.status?.conditions, 'Verified')) out.add(vd.spec.domain);
  return out;
}

/** Which profile of the namespace owns each domain: the oldest one that lists it. */
export function domainOwners(profiles: readonly SSOProfile[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const p of [...profiles].sort(byAge)) for (const d of p.spec.domains) if (!owners.has(d)) owners.set(d, p.metadata.name);
  return owners;
}

export function isTested(p: SSOProfile): boolean {
  const t = p.status?.test;
  return !!p.spec.test && t?.result === 'Succeeded' && (t.email ?? '').toLowerCase() === p.spec.test.email.toLowerCase();
}

/** The profile as ManagedUser decisions see it: from its published status. */
export function profileViewFromStatus(p: SSOProfile, verified: ReadonlySet<string>, owners: ReadonlyMap<string, string>): ProfileView {
  const st = p.status;
  const current = st?.observedGeneration === p.metadata.generation;
  const enforcing = current && st?.enforcement && ENFORCING.includes(st.enforcement.phase) ? new Set((st.enforcement.domains ?? []).filter((d) => p.spec.enforcement?.domains.includes(d))) : new Set<string>();
  return {
    name: p.metadata.name,
    creationTimestamp: timestamp(p.metadata.creationTimestamp),
    valid: isTrue(st?.conditions, 'IdPConfigValid') && isTrue(st?.conditions, 'CertificateValid'),
    servedDomains: new Set(p.spec.domains.filter((d) => verified.has(d) && owners.get(d) === p.metadata.name)),
    tested: isTested(p),
    enforcingDomains: enforcing,
    exempt: new Set((p.spec.enforcement?.exempt ?? []).map((e) => e.toLowerCase())),
  };
}

type IdPResult = { ok: true; idp: IdPDescriptor; fetchedAt?: Date; note?: string } | { ok: false; reason: string; message: string; pending?: boolean };

function resolveIdP(ctx: Context, p: SSOProfile): IdPResult {
  const spec = p.spec.idp;
  try {
    if (spec.metadata?.xml !== undefined) return { ok: true, idp: parseIdPMetadata(spec.metadata.xml) };
    if (spec.metadata?.url !== undefined) {
      const st = ctx.metadata.get(`${p.metadata.namespace}/${p.metadata.name}`, spec.metadata.url, parseDuration(spec.metadata.refreshInterval ?? SSO_PROFILE_DEFAULTS.metadataRefreshInterval));
      if (st.xml === undefined) {
        if (st.lastError) return { ok: false, reason: 'MetadataFetchFailed', message: `fetching ${spec.metadata.url} failed: ${st.lastError}` };
        return { ok: false, reason: 'MetadataPending', message: `fetching ${spec.metadata.url}`, pending: true };
      }
      const idp = parseIdPMetadata(st.xml);
      const note = st.lastError ? `; the last refresh failed (${st.lastError}), using the copy fetched at ${st.fetchedAt?.toISOString()}` : '';
      return { ok: true, idp, fetchedAt: st.fetchedAt, note };
    }
    const certificates = (spec.certificates ?? []).flatMap((c) => {
      const blocks = splitPem(c);
      if (blocks.length === 0) throw new IdPConfigError('CertificateInvalid', 'a certificate in spec.idp.certificates has no PEM block');
      return blocks;
    });
    if (!spec.entityID || !spec.ssoURL || certificates.length === 0) throw new IdPConfigError('IdPIncomplete', 'idp needs entityID, ssoURL and at least one certificate');
    return { ok: true, idp: { entityID: spec.entityID, ssoURL: spec.ssoURL, certificates } };
  } catch (err) {
    if (err instanceof IdPConfigError) return { ok: false, reason: err.reason, message: err.message };
    throw err;
  }
}

class SPKeyError extends Error {}

async function ensureSPKey(ctx: Context, p: SSOProfile): Promise<{ pair: SPKeyPair; testToken?: string }> {
  const uid = p.metadata.uid as string;
  const ns = p.metadata.namespace;
  const name = spKeySecretName(p.metadata.name);
  const wantEmail = p.spec.test?.email.toLowerCase();
  const cached = ctx.spKeys.get(uid);
  if (cached && cached.testEmail === wantEmail) return cached;
  const path = resourcePath(REFS.Secret, ns, name);
  let secret: { metadata: { resourceVersion?: string; labels?: Record<string, string>; ownerReferences?: { uid?: string }[] }; data?: Record<string, string> } | undefined;
  try {
    secret = await ctx.client.call('GET', path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const dec = (k: string) => (secret?.data?.[k] ? Buffer.from(secret.data[k], 'base64').toString('utf8') : undefined);
  const ownedByThis = secret?.metadata.ownerReferences?.some((o) => o.uid === uid) ?? false;
  // Never take over a Secret that is not ours (same name, created by someone else).
  if (secret && secret.metadata.labels?.['sso.gatehouse.dev/ssoprofile'] !== p.metadata.name) {
    throw new SPKeyError(`Secret ${name} already exists and was not created by Gatehouse for this SSOProfile; delete or rename it`);
  }
  let pair: SPKeyPair | undefined;
  const keyPem = dec('tls.key');
  const certPem = dec('tls.crt');
  if (ownedByThis && keyPem && certPem) pair = { privateKeyPem: keyPem, certificatePem: certPem };
  let testToken = ownedByThis ? dec('test-token') : undefined;
  const storedEmail = ownedByThis ? dec('test-email') : undefined;
  if (pair && testToken === undefined && wantEmail === undefined && secret) {
    ctx.spKeys.set(uid, { pair });
    return { pair };
  }
  if (pair && (storedEmail ?? undefined) === wantEmail && (wantEmail === undefined || testToken)) {
    ctx.spKeys.set(uid, { pair, testToken, testEmail: wantEmail });
    return { pair, testToken };
  }
  // Create, re-own (a profile re-created under the same name) or rotate the test token.
  pair ??= generateSPKeyPair(spEndpoints(ctx.config.spPublicUrl, ns, p.metadata.name).entityID);
  testToken = wantEmail === undefined ? undefined : randomBytes(24).toString('base64url');
  const enc = (s: string) => Buffer.from(s).toString('base64');
  const data: Record<string, string> = { 'tls.key': enc(pair.privateKeyPem), 'tls.crt': enc(pair.certificatePem) };
  if (testToken && wantEmail) {
    data['test-token'] = enc(testToken);
    data['test-email'] = enc(wantEmail);
  }
  const body = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name,
      namespace: ns,
      labels: { 'app.kubernetes.io/managed-by': FIELD_MANAGER, 'sso.gatehouse.dev/ssoprofile': p.metadata.name },
      ownerReferences: [{ apiVersion: p.apiVersion, kind: 'SSOProfile', name: p.metadata.name, uid, controller: true, blockOwnerDeletion: true }],
      ...(secret?.metadata.resourceVersion ? { resourceVersion: secret.metadata.resourceVersion } : {}),
    },
    data,
  };
  if (secret) await ctx.client.call('PUT', path, { body });
  else await ctx.client.call('POST', resourcePath(REFS.Secret, ns), { body });
  ctx.spKeys.set(uid, { pair, testToken, testEmail: wantEmail });
  return { pair, testToken };
}

export async function reconcileSSOProfile(ctx: Context, namespace: string, name: string): Promise<ReconcileResult> {
  const fragKey = `${namespace}/${name}`;
  const p = ctx.profiles.get(namespace, name);
  if (!p) {
    ctx.metadata.forget(fragKey);
    if (ctx.fragments.delete(fragKey)) ctx.queue.addAfter('Config', 100);
    return {};
  }
  const now = new Date();
  const gen = p.metadata.generation;
  const old = p.status ?? {};
  let requeueAfterMs: number | undefined;
  const conds: DesiredCondition[] = [];

  // 1. IdP configuration and its certificates.
  const idp = resolveIdP(ctx, p);
  let certInfos: CertificateInfo[] = [];
  let certVerdict: { status: 'True' | 'False' | 'Unknown'; reason: string; message: string } = { status: 'Unknown', reason: 'IdPConfigInvalid', message: 'the IdP configuration is not valid' };
  let idpCond: DesiredCondition;
  if (idp.ok) {
    try {
      certInfos = idp.idp.certificates.map(parseCertificate);
      const v = judgeCertificates(certInfos, ctx.config.certificateExpiryWarning, now);
      certVerdict = v;
      if (v.nextChange) requeueAfterMs = Math.max(1000, Math.min(v.nextChange.getTime() - now.getTime() + 1000, 24 * 3_600_000));
      idpCond = { type: 'IdPConfigValid', status: 'True', reason: 'Valid', message: `IdP ${idp.idp.entityID}, SSO URL ${idp.idp.ssoURL}, ${certInfos.length} signing certificate(s)${idp.note ?? ''}` };
    } catch (err) {
      if (!(err instanceof IdPConfigError)) throw err;
      idpCond = { type: 'IdPConfigValid', status: 'False', reason: err.reason, message: err.message };
    }
  } else {
    idpCond = { type: 'IdPConfigValid', status: idp.pending ? 'Unknown' : 'False', reason: idp.reason, message: idp.message };
  }
  const idpValid = idpCond.status === 'True';
  const certValid = idpValid && certVerdict.status === 'True';
  conds.push(idpCond, { type: 'CertificateValid', ...certVerdict, status: idpValid ? certVerdict.status : 'Unknown', reason: idpValid ? certVerdict.reason : 'IdPConfigInvalid', message: idpValid ? certVerdict.message : 'no certificates to check: the IdP configuration is not valid' });

  // 2. Domains: each must be Verified here and claimed by no older profile of the namespace.
  const verified = verifiedDomainsOf(ctx, namespace);
  const siblings = [...ctx.profiles.inNamespace(namespace)];
  const owners = domainOwners(siblings);
  const unverified = p.spec.domains.filter((d) => !verified.has(d));
  const claimed = p.spec.domains.filter((d) => verified.has(d) && owners.get(d) !== name);
  const served = p.spec.domains.filter((d) => verified.has(d) && owners.get(d) === name).sort();
  if (unverified.length > 0) conds.push({ type: 'DomainsVerified', status: 'False', reason: 'DomainNotVerified', message: `not Verified in this organization: ${unverified.join(', ')}` });
  else if (claimed.length > 0) conds.push({ type: 'DomainsVerified', status: 'False', reason: 'DomainClaimed', message: claimed.map((d) => `${d} is served by SSOProfile ${owners.get(d)}`).join('; ') });
  else conds.push({ type: 'DomainsVerified', status: 'True', reason: 'Verified', message: `serving ${served.join(', ')}` });

  // 3. SP key pair and test link.
  let keys: { pair?: SPKeyPair; testToken?: string } = {};
  try {
    keys = await ensureSPKey(ctx, p);
    conds.push({ type: 'SPKeyReady', status: 'True', reason: 'Ready', message: `SP key pair kept in Secret ${spKeySecretName(name)}` });
  } catch (err) {
    if (!(err instanceof SPKeyError)) throw err;
    conds.push({ type: 'SPKeyReady', status: 'False', reason: 'SecretNameTaken', message: err.message });
  }
  const sp = spEndpoints(ctx.config.spPublicUrl, namespace, name);
  const testURL = keys.testToken ? `${ctx.config.spPublicUrl}/test/${keys.testToken}` : undefined;

  // 4. Test result, written by the sp-server.
  const tested = isTested(p);
  if (!p.spec.test) conds.push({ type: 'Tested', status: 'False', reason: 'NotConfigured', message: 'set spec.test.email to test the connection' });
  else if (tested) conds.push({ type: 'Tested', status: 'True', reason: 'Succeeded', message: `${old.test?.email} signed in through the IdP${old.test?.completedTime ? ` at ${old.test.completedTime}` : ''}` });
  else if (old.test?.result === 'Failed' && (old.test.email ?? '').toLowerCase() === p.spec.test.email.toLowerCase()) conds.push({ type: 'Tested', status: 'False', reason: 'TestFailed', message: `${old.test.errorCode ?? 'error'}: ${old.test.message ?? 'the test login failed'}` });
  else conds.push({ type: 'Tested', status: 'False', reason: 'TestPending', message: `waiting for ${p.spec.test.email} to sign in through the test link` });

  // 5. Enforcement.
  const wanted = [...(p.spec.enforcement?.domains ?? [])].sort();
  let enforcement: NonNullable<SSOProfileStatus['enforcement']>;
  if (wanted.length === 0) {
    enforcement = { phase: 'NotRequested' };
  } else if (!certValid) {
    enforcement = { phase: 'Blocked', reason: 'IdPConfigInvalid', message: `the IdP configuration or its certificates are not valid: ${!idpValid ? idpCond.message : certVerdict.message}`, domains: wanted };
  } else if (!tested) {
    enforcement = { phase: 'Blocked', reason: 'TestNotPassed', message: p.spec.test ? `${p.spec.test.email} has not completed a successful test login yet` : 'set spec.test.email and complete a test login first', domains: wanted };
  } else if (wanted.some((d) => !served.includes(d))) {
    const bad = wanted.filter((d) => !served.includes(d));
    enforcement = { phase: 'Blocked', reason: 'DomainNotVerified', message: `not Verified (or served by another profile): ${bad.join(', ')}`, domains: wanted };
  } else {
    const selfView: ProfileView = {
      name,
      creationTimestamp: timestamp(p.metadata.creationTimestamp),
      valid: true,
      servedDomains: new Set(served),
      tested,
      enforcingDomains: new Set(wanted),
      exempt: new Set((p.spec.enforcement?.exempt ?? []).map((e) => e.toLowerCase())),
    };
    const views = siblings.sort(byAge).map((s) => (s.metadata.name === name ? selfView : profileViewFromStatus(s, verified, owners)));
    const wantedSet = new Set(wanted);
    let matched = 0;
    let enforced = 0;
    let pending = 0;
    for (const u of ctx.users.inNamespace(namespace) as Iterable<ManagedUser>) {
      if (!wantedSet.has(emailDomain(u.spec.email))) continue;
      matched++;
      const d = decide(u, verified, views, false);
      const s = u.status?.sso;
      if (s?.enforced && s.profile === name) enforced++;
      if (!s || s.enforced !== d.enforced || s.profile !== d.profile || s.reason !== d.reason) pending++;
    }
    enforcement = { phase: pending === 0 ? 'Enforced' : 'InProgress', domains: wanted, matchedUsers: matched, enforcedUsers: enforced };
    enforcement.message = pending === 0 ? `${enforced} of ${matched} users of ${wanted.join(', ')} enforced; the others are exempt or overridden` : `${pending} users still to update`;
    if (pending > 0) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, 2000);
  }
  conds.push(
    enforcement.phase === 'Enforced'
      ? { type: 'Enforced', status: 'True', reason: 'Enforced', message: enforcement.message ?? '' }
      : { type: 'Enforced', status: 'False', reason: enforcement.phase === 'Blocked' ? (enforcement.reason ?? 'Blocked') : enforcement.phase, message: enforcement.message ?? (enforcement.phase === 'NotRequested' ? 'spec.enforcement.domains is empty' : '') },
  );

  // 6. Ready (kstatus): everything declared is in effect.
  const notReady = [idpCond, conds.find((c) => c.type === 'CertificateValid'), conds.find((c) => c.type === 'DomainsVerified'), conds.find((c) => c.type === 'SPKeyReady')].find((c) => c && c.status !== 'True');
  if (notReady) conds.push({ type: 'Ready', status: 'False', reason: notReady.reason, message: notReady.message });
  else if (enforcement.phase === 'Blocked') conds.push({ type: 'Ready', status: 'False', reason: 'EnforcementBlocked', message: enforcement.message ?? '' });
  else if (enforcement.phase === 'InProgress') conds.push({ type: 'Ready', status: 'False', reason: 'EnforcementInProgress', message: enforcement.message ?? '' });
  else conds.push({ type: 'Ready', status: 'True', reason: 'Ready', message: 'the profile is valid and in effect' });
  if (enforcement.phase === 'InProgress') conds.push({ type: 'Reconciling', status: 'True', reason: 'EnforcementInProgress', message: enforcement.message ?? '' });

  // 7. The piece of the rendered SP config.
  let fragment: RenderedProfile | undefined;
  if (certValid && idp.ok && keys.pair) {
    const candidate: RenderedProfile = renderProfile(p.spec, {
      name,
      sp: { ...sp, key: keys.pair },
      idp: { entityID: idp.idp.entityID, ssoURL: idp.idp.ssoURL, certificates: idp.idp.certificates.filter((_, i) => { const c = certInfos[i]; return !!c && c.notAfter > now; }) },
      domains: served,
      test: keys.testToken && p.spec.test ? { token: keys.testToken, email: p.spec.test.email.toLowerCase() } : undefined,
    });
    const parsed = renderedProfile.safeParse(JSON.parse(JSON.stringify(candidate)));
    if (parsed.success) fragment = parsed.data;
    else conds.push({ type: 'ConfigRendered', status: 'False', reason: 'InvalidConfig', message: `left out of the SP config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ').slice(0, 1000)}` });
  }
  if (fragment) conds.push({ type: 'ConfigRendered', status: 'True', reason: 'Rendered', message: 'included in the SP config' });
  else if (!conds.some((c) => c.type === 'ConfigRendered')) {
    const why = !idpValid ? idpCond.message : !certValid ? certVerdict.message : 'the SP key pair is not available';
    conds.push({ type: 'ConfigRendered', status: 'False', reason: idpCond.status === 'Unknown' ? 'Pending' : !certValid ? 'IdPConfigInvalid' : 'SPKeyMissing', message: `left out of the SP config: ${why}` });
  }

  // A metadata URL still loading keeps the previous rendering rather than dropping the profile.
  const prev = ctx.fragments.get(fragKey);
  if (!(idp.ok === false && idp.pending && prev)) {
    const next = fragment ? { ok: true as const, profile: fragment } : { ok: false as const, reason: idpCond.message };
    if (!prev || stableStringify(prev) !== stableStringify(next)) {
      ctx.fragments.set(fragKey, next);
      ctx.queue.addAfter('Config', 100);
    }
  }

  // 8. Status: only the operator's fields; status.test keeps the sp-server's fields untouched.
  const status: SSOProfileStatus = {
    observedGeneration: gen,
    conditions: mergeConditions(old.conditions, conds, gen, now),
    sp,
    idp: idp.ok
      ? {
          entityID: idp.idp.entityID,
          ssoURL: idp.idp.ssoURL,
          certificates: certInfos.map((c) => ({ fingerprintSHA256: c.fingerprintSHA256, subject: c.subject.slice(0, 1024), notBefore: c.notBefore.toISOString().replace(/\.\d{3}Z$/, 'Z'), notAfter: c.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z') })),
          metadataFetchedTime: idp.fetchedAt?.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        }
      : undefined,
    test: testURL ? { url: testURL } : undefined,
    enforcement,
  };
  const mine = (s: SSOProfileStatus) => ({ ...s, test: s.test?.url ? { url: s.test.url } : undefined, recentFailures: undefined });
  if (stableStringify(mine(status)) !== stableStringify(mine(old))) {
    await applyStatus(ctx, 'SSOProfile', namespace, name, JSON.parse(JSON.stringify(status)));
    ctx.log.debug({ kind: 'SSOProfile', namespace, name, phase: enforcement.phase, matchedUsers: enforcement.matchedUsers, enforcedUsers: enforcement.enforcedUsers }, 'status updated');
    recordTransitions(ctx, p, old, status);
  }
  return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
}

function recordTransitions(ctx: Context, p: SSOProfile, old: SSOProfileStatus, now: SSOProfileStatus): void {
  const ready = findCondition(now.conditions, 'Ready');
  const wasReady = findCondition(old.conditions, 'Ready');
  if (ready && (ready.status !== wasReady?.status || ready.reason !== wasReady?.reason)) {
    ctx.log.info({ kind: 'SSOProfile', namespace: p.metadata.namespace, name: p.metadata.name, ready: ready.status, reason: ready.reason, phase: now.enforcement?.phase }, ready.message);
  }
  const changed = (type: string) => {
    const a = findCondition(old.conditions, type);
    const b = findCondition(now.conditions, type);
    return b && (a?.status !== b.status || a?.reason !== b.reason) ? b : undefined;
  };
  const idp = changed('IdPConfigValid');
  if (idp && idp.status !== 'Unknown') ctx.events.record(p, idp.status === 'True' ? 'Normal' : 'Warning', idp.status === 'True' ? 'IdPConfigValid' : idp.reason, idp.message);
  const cert = changed('CertificateValid');
  if (cert && cert.reason !== 'Valid' && cert.status !== 'Unknown') ctx.events.record(p, 'Warning', cert.reason === 'ExpiringSoon' ? 'CertificateExpiringSoon' : `Certificate${cert.reason}`, cert.message);
  const tested = changed('Tested');
  if (tested && (tested.reason === 'Succeeded' || tested.reason === 'TestFailed')) ctx.events.record(p, tested.status === 'True' ? 'Normal' : 'Warning', tested.reason === 'Succeeded' ? 'TestSucceeded' : 'TestFailed', tested.message);
  const a = old.enforcement;
  const b = now.enforcement;
  if (b && (a?.phase !== b.phase || a?.reason !== b.reason)) {
    if (b.phase === 'Blocked') ctx.events.record(p, 'Warning', 'EnforcementBlocked', `${b.reason}: ${b.message ?? ''}`);
    else if (b.phase === 'InProgress') ctx.events.record(p, 'Normal', 'EnforcementStarted', `enforcing SSO on ${(b.domains ?? []).join(', ')}`);
    else if (b.phase === 'Enforced') ctx.events.record(p, 'Normal', 'EnforcementCompleted', b.message ?? '');
    else if (a) ctx.events.record(p, 'Normal', 'EnforcementRemoved', 'no domains to enforce');
  }
}
