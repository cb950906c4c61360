// The SSOProfile config step: a fragment only from a valid IdP and an SP key, the reason when
// left out, and a metadata URL still loading keeping the previous piece.
import { describe, expect, it } from 'vitest';
import { generateSPKeyPair } from '../../sp-keys.ts';
import { contextWith, NS, profile, reconcileOf } from './fixtures.ts';
import { idpStep } from './idp.ts';
import { renderStep } from './render.ts';

const spKey = generateSPKeyPair('sp.example');

async function rendered(p = profile('okta', { signatureAlgorithms: ['rsa-sha512', 'rsa-sha256'] }), withKey = true) {
  const { ctx, queue } = contextWith({ profiles: [p] });
  const r = reconcileOf(ctx, p);
  await idpStep.run(r, r.conditions);
  r.served = ['acme.com'];
  if (withKey) r.keys = { pair: spKey };
  await renderStep.run(r, r.conditions);
  return { condition: r.conditions.get('ConfigRendered'), fragment: ctx.fragments.get(`${NS}/okta`), queue: queue.keys, ctx, r };
}

describe('config step', () => {
  it('renders a valid profile with the SP endpoints, its domains and sorted algorithms, and queues the config', async () => {
    const { condition, fragment, queue } = await rendered();
    expect(condition).toMatchObject({ status: 'True', reason: 'Rendered' });
    expect(fragment).toMatchObject({ ok: true, profile: { name: 'okta', domains: ['acme.com'], signatureAlgorithms: ['rsa-sha256', 'rsa-sha512'], sp: { entityID: `https://sso.example/saml/${NS}/okta/metadata` } } });
    expect(queue).toEqual(['Config']);
  });

  it('leaves a profile out with the reason: an invalid IdP, or no SP key', async () => {
    const invalid = await rendered(profile('okta', { idp: { entityID: 'https://idp.example/entity' } }));
    expect(invalid.condition).toMatchObject({ status: 'False', reason: 'IdPConfigInvalid', message: 'left out of the SP config: idp needs entityID, ssoURL and at least one certificate' });
    expect(invalid.fragment).toEqual({ ok: false, reason: 'idp needs entityID, ssoURL and at least one certificate' });
    const noKey = await rendered(undefined, false);
    expect(noKey.condition).toMatchObject({ status: 'False', reason: 'SPKeyMissing', message: 'left out of the SP config: the SP key pair is not available' });
  });

  it('keeps the latched domains of a profile it leaves out, so a broken IdP never uncovers them', async () => {
    const p = profile(
      'okta',
      { idp: { entityID: 'https://idp.example/entity' }, enforcement: { domains: ['acme.com'], exempt: ['Root@acme.com'] } },
      { observedGeneration: 1, enforcement: { phase: 'Enforced', domains: ['acme.com'], latchedDomains: ['acme.com'] } },
    );
    const { fragment } = await rendered(p);
    expect(fragment).toMatchObject({ ok: false, enforcement: [{ domain: 'acme.com', profile: 'okta', unmanagedUsers: 'Refuse', exempt: ['root@acme.com'] }] });
  });

  it('lists a latched domain the rendered profile no longer serves (a lapsed verification), so it stays covered', async () => {
    const p = profile(
      'okta',
      { domains: ['acme.com', 'acme.org'], enforcement: { domains: ['acme.com', 'acme.org'] } },
      { observedGeneration: 1, enforcement: { phase: 'Enforced', domains: ['acme.com', 'acme.org'], latchedDomains: ['acme.com', 'acme.org'] } },
    );
    const { fragment } = await rendered(p);
    expect(fragment).toMatchObject({ ok: true, profile: { enforcedDomains: ['acme.com'] }, enforcement: [{ domain: 'acme.org', profile: 'okta', unmanagedUsers: 'Refuse' }] });
  });

  it('keeps the previous piece while a metadata URL is still loading', async () => {
    const p = profile('okta', { idp: { metadata: { url: 'https://idp.example/metadata', refreshInterval: '1h' } } });
    const { ctx, queue } = contextWith({ profiles: [p] });
    const previous = { ok: true as const, profile: { name: 'okta' } } as never;
    ctx.fragments.set(`${NS}/okta`, previous);
    const r = reconcileOf(ctx, p);
    await idpStep.run(r, r.conditions);
    await renderStep.run(r, r.conditions);
    expect(r.conditions.get('ConfigRendered')).toMatchObject({ status: 'False', reason: 'Pending' });
    expect(ctx.fragments.get(`${NS}/okta`)).toBe(previous);
    expect(queue.keys).toEqual([]);
  });

  it('renders the served domains whose users are enforced, the unmanaged-user policy and the test link\'s expiry', async () => {
    const p = profile(
      'okta',
      { domains: ['acme.com', 'acme.org'], test: { email: 'admin@acme.com' }, enforcement: { domains: ['acme.com', 'acme.org'], exempt: ['Root@acme.com'], unmanagedUsers: 'Allow' } },
      { observedGeneration: 1, enforcement: { phase: 'InProgress', domains: ['acme.com', 'acme.org'] } },
    );
    const { ctx } = contextWith({ profiles: [p] });
    const r = reconcileOf(ctx, p);
    await idpStep.run(r, r.conditions);
    // acme.org is not served (not verified here): it is never rendered as enforced.
    r.served = ['acme.com'];
    r.keys = { pair: spKey, test: { token: 't'.repeat(32), email: 'admin@acme.com', expiresAt: '2026-03-02T12:00:00Z' } };
    await renderStep.run(r, r.conditions);
    expect(ctx.fragments.get(`${NS}/okta`)).toMatchObject({
      ok: true,
      profile: { enforcedDomains: ['acme.com'], unmanagedUsers: 'Allow', enforcementExempt: ['root@acme.com'], test: { token: 't'.repeat(32), email: 'admin@acme.com', expiresAt: '2026-03-02T12:00:00Z' } },
    });
    // A spec change not published yet: the enforcement this reconcile plans covers the domain meanwhile.
    const changed = profile('okta', { enforcement: { domains: ['acme.com'] } }, { observedGeneration: 0, enforcement: { phase: 'Enforced', domains: ['acme.com'] } });
    const { ctx: ctx2 } = contextWith({ profiles: [changed] });
    const r2 = reconcileOf(ctx2, changed);
    await idpStep.run(r2, r2.conditions);
    r2.served = ['acme.com'];
    r2.keys = { pair: spKey };
    r2.status.enforcement = { phase: 'InProgress', domains: ['acme.com'] };
    await renderStep.run(r2, r2.conditions);
    expect(ctx2.fragments.get(`${NS}/okta`)).toMatchObject({ ok: true, profile: { enforcedDomains: ['acme.com'] } });
    // Enforcement not (yet) active: nothing beyond the ManagedUsers' decisions.
    const notYet = await rendered(profile('okta', { enforcement: { domains: ['acme.com'] } }, { observedGeneration: 1, enforcement: { phase: 'Blocked', domains: ['acme.com'] } }));
    expect(notYet.fragment).toMatchObject({ ok: true, profile: { enforcedDomains: [], unmanagedUsers: 'Refuse' } });
  });
});
