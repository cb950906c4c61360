// Step 3, the SP key: keep the profile's SP key pair and test token in a Secret
// `<profile>-sp-key` it owns, and publish the SP endpoints and the test link. Owns SPKeyReady.
import { randomBytes } from 'node:crypto';
import type { SSOProfile } from '../../../crds/api/index.ts';
import { FIELD_MANAGER, type Context } from '../../context.ts';
import { isNotFound, resourcePath } from '../../../kube/client.ts';
import { generateSPKeyPair, type SPKeyPair } from '../../sp-keys.ts';
import type { Step } from '../steps.ts';
import { operatorTestFields, spEndpoints, spKeySecretName, type ProfileReconcile } from './state.ts';
import { RESOURCES } from '../../../kube/resources.ts';

/** The Secret exists but is someone else's: a configuration problem, not a failed reconcile. */
class SPKeyError extends Error {}

type SecretRead = { metadata: { resourceVersion?: string; labels?: Record<string, string>; ownerReferences?: { uid?: string }[] }; data?: Record<string, string> };

export async function ensureSPKey(ctx: Pick<Context, 'client' | 'spKeys' | 'config'>, p: SSOProfile): Promise<{ pair: SPKeyPair; testToken?: string }> {
  const uid = p.metadata.uid as string;
  const ns = p.metadata.namespace;
  const name = spKeySecretName(p.metadata.name);
  const wantEmail = p.spec.test?.email.toLowerCase();
  const cached = ctx.spKeys.get(uid);
  if (cached && cached.testEmail === wantEmail) return cached;
  const path = resourcePath(RESOURCES.Secret, ns, name);
  let secret: SecretRead | undefined;
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
  else await ctx.client.call('POST', resourcePath(RESOURCES.Secret, ns), { body });
  ctx.spKeys.set(uid, { pair, testToken, testEmail: wantEmail });
  return { pair, testToken };
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
      conditions.set({ type: 'SPKeyReady', status: 'True', reason: 'Ready', message: `SP key pair kept in Secret ${spKeySecretName(name)}` });
    } catch (err) {
      if (!(err instanceof SPKeyError)) throw err;
      r.keys = {};
      conditions.set({ type: 'SPKeyReady', status: 'False', reason: 'SecretNameTaken', message: err.message });
    }
    r.status.test = operatorTestFields({ ...(r.keys.testToken ? { url: `${ctx.config.spPublicUrl}/test/${r.keys.testToken}` } : {}), lastPassed: r.status.test?.lastPassed });
    return {};
  },
};
