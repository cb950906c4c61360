// Step 3, the SP key: keep the profile's SP key pair and test token in its entry of the
// organization's `gatehouse-sp-keys` Secret (sp-key-store.ts), and publish the SP endpoints and
// the test link. Owns SPKeyReady.
import { randomBytes } from 'node:crypto';
import type { SSOProfile } from '../../../crds/api/index.ts';
import type { Context } from '../../context.ts';
import { SP_KEYS_SECRET_NAME, SPKeySecretTaken, updateSPKeyEntry } from '../../sp-key-store.ts';
import { generateSPKeyPair, type SPKeyPair } from '../../sp-keys.ts';
import type { Step } from '../steps.ts';
import { spEndpoints, type ProfileReconcile } from './state.ts';

export async function ensureSPKey(ctx: Pick<Context, 'client' | 'spKeys' | 'config' | 'spKeySecrets' | 'profiles'>, p: SSOProfile): Promise<{ pair: SPKeyPair; testToken?: string }> {
  const uid = p.metadata.uid as string;
  const ns = p.metadata.namespace;
  const wantEmail = p.spec.test?.email.toLowerCase();
  const cached = ctx.spKeys.get(uid);
  if (cached && cached.testEmail === wantEmail) return cached;
  const kept = await updateSPKeyEntry<{ pair: SPKeyPair; testToken?: string }>(ctx, p, (stored) => {
    const dec = (k: string) => (stored[k] ? Buffer.from(stored[k], 'base64').toString('utf8') : undefined);
    // An entry under this name from a deleted profile of the same name is not this profile's.
    const ownedByThis = dec('uid') === uid;
    let pair: SPKeyPair | undefined;
    const keyPem = dec('tls.key');
    const certPem = dec('tls.crt');
    if (ownedByThis && keyPem && certPem) pair = { privateKeyPem: keyPem, certificatePem: certPem };
    let testToken = ownedByThis ? dec('test-token') : undefined;
    const storedEmail = ownedByThis ? dec('test-email') : undefined;
    if (pair && testToken === undefined && wantEmail === undefined) return { result: { pair } };
    if (pair && (storedEmail ?? undefined) === wantEmail && (wantEmail === undefined || testToken)) return { result: { pair, testToken } };
    // Create, re-own (a profile re-created under the same name) or rotate the test token.
    pair ??= generateSPKeyPair(spEndpoints(ctx.config.spPublicUrl, ns, p.metadata.name).entityID);
    testToken = wantEmail === undefined ? undefined : randomBytes(24).toString('base64url');
    const enc = (s: string) => Buffer.from(s).toString('base64');
    const data: Record<string, string> = { 'tls.key': enc(pair.privateKeyPem), 'tls.crt': enc(pair.certificatePem) };
    if (testToken && wantEmail) {
      data['test-token'] = enc(testToken);
      data['test-email'] = enc(wantEmail);
    }
    return { store: data, result: { pair, testToken } };
  });
  ctx.spKeys.set(uid, { ...kept, testEmail: wantEmail });
  return kept;
}

export const spKeyStep: Step<ProfileReconcile, 'SPKeyReady'> = {
  name: 'SP key',
  owns: ['SPKeyReady'],
  async run(r, conditions) {
    const { ctx, profile: p } = r;
    const name = p.metadata.name;
    r.status.sp = spEndpoints(ctx.config.spPublicUrl, p.metadata.namespace, name);
    try {
      r.keys = await ensureSPKey(ctx, p);
      conditions.set({ type: 'SPKeyReady', status: 'True', reason: 'Ready', message: `SP key pair kept in Secret ${SP_KEYS_SECRET_NAME}` });
    } catch (err) {
      if (!(err instanceof SPKeySecretTaken)) throw err;
      r.keys = {};
      conditions.set({ type: 'SPKeyReady', status: 'False', reason: 'SecretNameTaken', message: err.message });
    }
    r.status.test = r.keys.testToken ? { url: `${ctx.config.spPublicUrl}/test/${r.keys.testToken}` } : undefined;
    return {};
  },
};
