// Step 6, the profile's piece of the rendered SP config: built only from a valid IdP (or OIDC
// provider with its client credential) and an SP key, checked against the config contract, and
// handed to the rendered-config controller.
// Owns ConfigRendered.
import { enforcementPolicy, OIDC_DEFAULTS, renderedProfile, renderProfile, type DomainEnforcement, type EnforcementPhase, type RenderedProfile } from '../../../crds/api/index.ts';
import { stableStringify, type Fragment } from '../../context.ts';
import { profileView } from '../../organization.ts';
import { queueKey } from '../../queue-key.ts';
import type { Step } from '../steps.ts';
import { FRAGMENT_DEBOUNCE_MS } from '../watch.ts';
import { renderOIDCUpstream } from '../../oidc/rendered.ts';
import { oidcEndpoints, spEndpoints, type ProfileReconcile } from './state.ts';

const ENFORCING: readonly EnforcementPhase[] = ['InProgress', 'Enforced'];

/**
 * Served domains where users are enforced, so addresses that are not ManagedUsers are covered
 * too: the published view user decisions read, joined with what this reconcile is about to
 * publish, so a spec change (whose status is not written yet) never uncovers a domain for a moment.
 */
function enforcedDomains(r: ProfileReconcile): string[] {
  const latched = new Set(latchedNow(r));
  return r.served.filter((d) => latched.has(d)).sort();
}

/** Published latched domains joined with the latch this reconcile is about to publish (`domains` also lists wanted domains not yet entered). */
function latchedNow(r: ProfileReconcile): string[] {
  const planned = r.status.enforcement && ENFORCING.includes(r.status.enforcement.phase) ? (r.status.enforcement.latchedDomains ?? []) : [];
  return [...new Set([...profileView(r.profile, r.org).enforcingDomains, ...planned])].sort();
}

/**
 * Latched domains the rendered profile does not serve: all of them when the profile is left out
 * (a broken IdP or SP key), the unserved ones otherwise (a lapsed verification). They stay
 * covered: no password there.
 */
function withoutProfile(r: ProfileReconcile, rendered: boolean): { enforcement?: DomainEnforcement[] } {
  const { profile: p } = r;
  const latched = latchedNow(r);
  const domains = rendered ? latched.filter((d) => !r.served.includes(d)) : latched;
  const policy = enforcementPolicy(p.spec);
  const enforcement = domains.map((domain) => ({ domain, profile: p.metadata.name, ...policy }));
  return enforcement.length > 0 ? { enforcement } : {};
}

/** The profile's upstream as rendered (SAML IdP or OIDC provider), or why it cannot be. */
function renderUpstream(r: ProfileReconcile): Pick<RenderedProfile, 'idp' | 'oidc'> | { reason: string; message: string } {
  const { profile: p, now } = r;
  const oidc = p.spec.oidc;
  if (oidc) {
    if (!r.oidc) return { reason: 'SPKeyMissing', message: 'left out of the SP config: the SP key pair is not available' };
    const needsSecret = (oidc.clientAuthentication ?? OIDC_DEFAULTS.clientAuthentication) !== 'private_key_jwt';
    if (needsSecret && r.clientSecret === undefined) return { reason: 'ClientSecretMissing', message: `left out of the SP config: ${r.conditions.get('ClientSecretReady')?.message ?? 'no client secret read'}` };
    const { redirectURI } = oidcEndpoints(r.ctx.config.spPublicUrl, p.metadata.namespace, p.metadata.name, oidc.clientAuthentication);
    return { oidc: renderOIDCUpstream(oidc, r.oidc, redirectURI, needsSecret ? r.clientSecret : undefined) };
  }
  if (!r.idp) return { reason: 'SPKeyMissing', message: 'left out of the SP config: the SP key pair is not available' };
  const { descriptor, certificates } = r.idp;
  return {
    idp: {
      entityID: descriptor.entityID,
      ssoURL: descriptor.ssoURL,
      certificates: descriptor.certificates.filter((_, i) => {
        const c = certificates[i];
        return !!c && c.notAfter > now;
      }),
    },
  };
}

/** The candidate fragment, or why the profile is left out of the config. */
function renderFragment(r: ProfileReconcile): { fragment: RenderedProfile } | { reason: string; message: string } {
  const { profile: p, keys } = r;
  const idp = r.conditions.get('IdPConfigValid');
  const cert = r.conditions.get('CertificateValid');
  const idpValid = idp?.status === 'True';
  const certValid = idpValid && cert?.status === 'True';
  if (!certValid || !keys.pair) {
    const why = !idpValid ? idp?.message : !certValid ? cert?.message : 'the SP key pair is not available';
    return { reason: idp?.status === 'Unknown' ? 'Pending' : !certValid ? 'IdPConfigInvalid' : 'SPKeyMissing', message: `left out of the SP config: ${why}` };
  }
  const upstream = renderUpstream(r);
  if ('reason' in upstream) return upstream;
  // The spec's own fields are carried by the contract's table (crds/api/rendered-config.ts);
  // what the operator resolves (upstream, SP key and endpoints, served and enforced domains, test link) is added here.
  const candidate: RenderedProfile = renderProfile(p.spec, {
    name: p.metadata.name,
    sp: { ...spEndpoints(r.ctx.config.spPublicUrl, p.metadata.namespace, p.metadata.name), key: keys.pair },
    ...upstream,
    domains: r.served,
    enforcedDomains: enforcedDomains(r),
    test: keys.test && p.spec.test ? { token: keys.test.token, email: keys.test.email, expiresAt: keys.test.expiresAt } : undefined,
  });
  const parsed = renderedProfile.safeParse(JSON.parse(JSON.stringify(candidate)));
  if (parsed.success) return { fragment: parsed.data };
  // Issue paths only: a message quoting values could carry the client secret.
  return { reason: 'InvalidConfig', message: `left out of the SP config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ').slice(0, 1000)}` };
}

export const renderStep: Step<ProfileReconcile, 'ConfigRendered'> = {
  name: 'config',
  owns: ['ConfigRendered'],
  run(r, conditions) {
    const { ctx, profile: p } = r;
    const out = renderFragment(r);
    if ('fragment' in out) conditions.set({ type: 'ConfigRendered', status: 'True', reason: 'Rendered', message: 'included in the SP config' });
    else conditions.set({ type: 'ConfigRendered', status: 'False', reason: out.reason, message: out.message });
    // A metadata URL still loading keeps the previous rendering rather than dropping the profile.
    const fragKey = `${p.metadata.namespace}/${p.metadata.name}`;
    const prev = ctx.fragments.get(fragKey);
    if (r.idpPending && prev) return {};
    const idpMessage = 'reason' in out && out.reason === 'ClientSecretMissing' ? out.message : (r.conditions.get('IdPConfigValid')?.message ?? '');
    const next: Fragment = 'fragment' in out ? { ok: true, profile: out.fragment, ...withoutProfile(r, true) } : { ok: false, reason: idpMessage, ...withoutProfile(r, false) };
    if (!prev || stableStringify(prev) !== stableStringify(next)) {
      ctx.fragments.set(fragKey, next);
      ctx.queue.addAfter(queueKey.config, FRAGMENT_DEBOUNCE_MS);
    }
    return {};
  },
};
