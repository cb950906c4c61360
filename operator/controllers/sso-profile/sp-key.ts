// Step 3, the SP key: keep the profile's SP key pair and test link (token, address, expiry,
// renewal) in its entry of the organization's `gatehouse-sp-keys` Secret (sp-key-store.ts), and
// publish the SP endpoints and the test link. Owns SPKeyReady.
import { randomBytes } from 'node:crypto';
import { RENEW_TEST_LINK_ANNOTATION, type SSOProfile } from '../../../crds/api/index.ts';
import type { Context } from '../../context.ts';
import { SP_KEYS_SECRET_NAME, SPKeySecretTaken, updateSPKeyEntry } from '../../sp-key-store.ts';
import { generateSPKeyPair, type SPKeyPair, type SPKeys, type TestLink } from '../../sp-keys.ts';
import type { Step } from '../steps.ts';
import { operatorTestFields, spEndpoints, statusEndpoints, type ProfileReconcile } from './state.ts';

/** The link answers the spec and the renew annotation as they are now. */
function isCurrent(link: TestLink | undefined, wantEmail: string | undefined, wantRenewal: string | undefined): boolean {
  if (wantEmail === undefined) return link === undefined;
  return link?.email === wantEmail && (wantRenewal === undefined || link.renewal === wantRenewal);
}

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function ensureSPKey(ctx: Pick<Context, 'client' | 'spKeys' | 'config' | 'spKeySecrets' | 'profiles'>, p: SSOProfile, now = new Date()): Promise<SPKeys> {
  const uid = p.metadata.uid as string;
  const ns = p.metadata.namespace;
  const wantEmail = p.spec.test?.email.toLowerCase();
  const wantRenewal = p.metadata.annotations?.[RENEW_TEST_LINK_ANNOTATION];
  const cached = ctx.spKeys.get(uid);
  if (cached && isCurrent(cached.test, wantEmail, wantRenewal)) return cached;
  const keys = await updateSPKeyEntry<SPKeys>(ctx, p, (stored) => {
    const dec = (k: string) => (stored[k] ? Buffer.from(stored[k], 'base64').toString('utf8') : undefined);
    // An entry under this name from a deleted profile of the same name is not this profile's.
    const ownedByThis = dec('uid') === uid;
    let pair: SPKeyPair | undefined;
    const keyPem = dec('tls.key');
    const certPem = dec('tls.crt');
    if (ownedByThis && keyPem && certPem) pair = { privateKeyPem: keyPem, certificatePem: certPem };
    const [token, email, expiresAt, renewal] = ownedByThis ? [dec('test-token'), dec('test-email'), dec('test-expires-at'), dec('test-renewal')] : [];
    // A link stored without an expiry (issued before links expired) is replaced by one that has one.
    const storedLink: TestLink | undefined = token && email && expiresAt ? { token, email, expiresAt, ...(renewal !== undefined ? { renewal } : {}) } : undefined;
    const storedSomething = token !== undefined || email !== undefined;
    if (pair && isCurrent(storedLink, wantEmail, wantRenewal) && (storedLink !== undefined || !storedSomething)) {
      return { result: { pair, ...(storedLink ? { test: storedLink } : {}) } };
    }
    // Create, re-own (a profile re-created under the same name), issue or renew the test link.
    pair ??= generateSPKeyPair(spEndpoints(ctx.config.spPublicUrl, ns, p.metadata.name).entityID);
    const test: TestLink | undefined =
      wantEmail === undefined
        ? undefined
        : { token: randomBytes(24).toString('base64url'), email: wantEmail, expiresAt: isoSeconds(now.getTime() + ctx.config.testLinkTtl), ...(wantRenewal !== undefined ? { renewal: wantRenewal } : {}) };
    const enc = (v: string) => Buffer.from(v).toString('base64');
    const data: Record<string, string> = { 'tls.key': enc(pair.privateKeyPem), 'tls.crt': enc(pair.certificatePem) };
    if (test) {
      data['test-token'] = enc(test.token);
      data['test-email'] = enc(test.email);
      data['test-expires-at'] = enc(test.expiresAt);
      if (test.renewal !== undefined) data['test-renewal'] = enc(test.renewal);
    }
    return { store: data, result: { pair, ...(test ? { test } : {}) } };
  });
  ctx.spKeys.set(uid, keys);
  return keys;
}

export const spKeyStep: Step<ProfileReconcile, 'SPKeyReady'> = {
  name: 'SP key',
  owns: ['SPKeyReady'],
  async run(r, conditions) {
    const { ctx, profile: p } = r;
    const name = p.metadata.name;
    r.status.sp = statusEndpoints(ctx.config.spPublicUrl, p);
    let keptIn = `SP key pair kept in Secret ${SP_KEYS_SECRET_NAME}`;
    try {
      r.keys = await ensureSPKey(ctx, p, r.now);
    } catch (err) {
      if (!(err instanceof SPKeySecretTaken)) throw err;
      r.keys = {};
      conditions.set({ type: 'SPKeyReady', status: 'False', reason: 'SecretNameTaken', message: err.message });
    }
    const link = r.keys.test;
    // The operator's part of status.test: the link, and the last passed test (which only it moves).
    r.status.test = operatorTestFields({ ...(link ? { url: `${ctx.config.spPublicUrl}/test/${link.token}`, expiresAt: link.expiresAt } : {}), lastPassed: r.status.test?.lastPassed });
    if (!r.keys.pair) return {};
    // Come back when the link expires, so the status says so and how to get a new one.
    const leftMs = link ? Date.parse(link.expiresAt) - r.now.getTime() : undefined;
    if (link && leftMs !== undefined && leftMs <= 0) keptIn += `; the test link expired at ${link.expiresAt}: set or change the annotation ${RENEW_TEST_LINK_ANNOTATION} for a new one`;
    conditions.set({ type: 'SPKeyReady', status: 'True', reason: 'Ready', message: keptIn });
    return leftMs !== undefined && leftMs > 0 ? { requeueAfterMs: leftMs + 1000 } : {};
  },
};
