// Fixtures for the SSOProfile steps' unit tests: profiles, verified domains and users of one
// organization, an IdP certificate, and a Context over hand-fed caches.
import { pino } from 'pino';
import type { ManagedUser, SSOProfile, SSOProfileSpec, SSOProfileStatus, VerifiedDomain } from '../../../crds/api/index.ts';
import { loadConfig } from '../../config.ts';
import type { Context, SecretObject } from '../../context.ts';
import type { MetadataCache } from '../../idp/fetcher.ts';
import type { OIDCProviderCache } from '../../oidc/provider-cache.ts';
import { OperatorMetrics } from '../../metrics.ts';
import { generateSPKeyPair } from '../../sp-keys.ts';
import { cacheOf, fakeClient, provenDomain, recordingQueue, TEST_PROOF_KEY, type ApiCall } from '../../test-doubles.ts';
import { startReconcile, type ProfileReconcile } from './state.ts';

export const NS = 'acme';
export const idpCertificate = generateSPKeyPair('idp.example').certificatePem;

export function profile(name: string, spec: Partial<SSOProfileSpec> = {}, status?: SSOProfileStatus, created = '2026-01-01T00:00:00Z'): SSOProfile {
  return {
    apiVersion: 'sso.gatehouse.dev/v1alpha1',
    kind: 'SSOProfile',
    metadata: { name, namespace: NS, uid: `uid-${name}`, generation: 1, creationTimestamp: created },
    spec: { idp: { entityID: 'https://idp.example/entity', ssoURL: 'https://idp.example/sso', certificates: [idpCertificate] }, domains: ['acme.com'], ...spec },
    ...(status ? { status } : {}),
  } as unknown as SSOProfile;
}

export const verified = (domain: string, namespace = NS): VerifiedDomain => provenDomain(domain, namespace);

export const user = (email: string, sso?: NonNullable<ManagedUser['status']>['sso']): ManagedUser =>
  ({ metadata: { name: email.replace(/[@.]/g, '-'), namespace: NS }, spec: { email, sso: 'Inherit', active: true }, ...(sso ? { status: { sso } } : {}) }) as ManagedUser;

export function contextWith(opts: { profiles?: SSOProfile[]; domains?: VerifiedDomain[]; users?: ManagedUser[]; answer?: (c: ApiCall) => unknown; metadata?: Pick<MetadataCache, 'get' | 'forget'>; oidcProviders?: Pick<OIDCProviderCache, 'get' | 'forget'>; secrets?: SecretObject[] } = {}) {
  const { client, calls } = fakeClient(opts.answer);
  const queue = recordingQueue();
  const events: { type: string; reason: string; message: string }[] = [];
  const ctx = {
    config: loadConfig(['--namespace=gatehouse', '--sp-public-url=https://sso.example'], {}),
    client,
    log: pino({ level: 'silent' }),
    queue,
    metrics: new OperatorMetrics(),
    events: { record: (_obj: unknown, type: string, reason: string, message: string) => events.push({ type, reason, message }) },
    metadata: opts.metadata ?? { get: (_key: string, source: { url: string }) => ({ url: source.url, inFlight: true }), forget: () => {} },
    domains: cacheOf(opts.domains ?? [verified('acme.com')]),
    profiles: cacheOf(opts.profiles ?? []),
    users: cacheOf(opts.users ?? []),
    fragments: new Map(),
    spKeys: new Map(),
    domainProofKey: TEST_PROOF_KEY,
    oidcProviders: opts.oidcProviders ?? { get: () => ({ inFlight: true }), forget: () => {} },
    spKeySecrets: cacheOf([]),
    oidcClientSecrets: cacheOf(opts.secrets ?? []),
    oidcSecretsRead: new Map(),
  } as unknown as Context;
  return { ctx, calls, queue, events };
}

/** A reconcile of `p` (which must be in the context's profile cache) before any step ran. */
export function reconcileOf(ctx: Context, p: SSOProfile): ProfileReconcile {
  return startReconcile(ctx, p);
}
