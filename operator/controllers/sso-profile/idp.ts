// Step 1, the IdP: resolve the configuration (inline, by metadata XML or URL, under the
// installation's URL policy and the profile's metadata trust) and judge its signing certificates;
// an OIDC profile's provider is resolved in oidc.ts. Owns IdPConfigValid and CertificateValid.
import { parseDuration, REFRESH_METADATA_ANNOTATION, SSO_PROFILE_DEFAULTS, type SSOProfile } from '../../../crds/api/index.ts';
import { rfc3339 } from '../../conditions.ts';
import type { Context } from '../../context.ts';
import { insecureMetadataURL } from '../../idp/fetcher.ts';
import { assertNotExpired, IdPConfigError, judgeCertificates, parseCertificate, splitPem, type IdPDescriptor } from '../../idp/metadata.ts';
import { acceptMetadata } from '../../idp/trust.ts';
import type { Step } from '../steps.ts';
import { runOIDCProvider } from './oidc.ts';
import type { ProfileReconcile } from './state.ts';

/** `stale`: the last refresh of a metadata URL failed or was refused, and the copy accepted before is in use. */
type IdPResult = { ok: true; idp: IdPDescriptor; fetchedAt?: Date; stale?: { reason: string; note: string } } | { ok: false; reason: string; message: string; pending?: boolean };

/** Longest wait before the certificates are judged again (expiry warnings move with time). */
const MAX_CERTIFICATE_RECHECK_MS = 24 * 3_600_000;

/**
 * Inline metadata accepted before, by text and pinned certificate: a profile is reconciled every
 * half second while its users' enforcement is counted, and its XML does not change meanwhile.
 * Only the expiry depends on the time, so it is checked at every call. Cleared when full.
 */
const MAX_ACCEPTED = 256;
const acceptedInline = new Map<string, Map<string, IdPDescriptor>>();

function acceptInlineMetadata(xml: string, trust: { signingCertificate?: string }, now: Date): IdPDescriptor {
  const pin = trust.signingCertificate ?? '';
  const known = acceptedInline.get(xml)?.get(pin);
  if (known !== undefined) {
    assertNotExpired(known, now);
    return known;
  }
  const descriptor = acceptMetadata(xml, trust, now);
  if (acceptedInline.size >= MAX_ACCEPTED) acceptedInline.clear();
  let byPin = acceptedInline.get(xml);
  if (!byPin) acceptedInline.set(xml, (byPin = new Map()));
  byPin.set(pin, descriptor);
  return descriptor;
}

export function resolveIdP(ctx: Pick<Context, 'metadata' | 'config'>, p: SSOProfile, now: Date): IdPResult {
  const spec = p.spec.idp;
  if (spec === undefined) return { ok: false, reason: 'IdPIncomplete', message: 'the profile names no SAML IdP (spec.idp)' };
  const trust = spec.metadata?.signingCertificate !== undefined ? { signingCertificate: spec.metadata.signingCertificate } : {};
  try {
    if (spec.metadata?.xml !== undefined) return { ok: true, idp: acceptInlineMetadata(spec.metadata.xml, trust, now) };
    if (spec.metadata?.url !== undefined) {
      const { url } = spec.metadata;
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      const insecure = insecureMetadataURL(url, ctx.config.allowInsecureMetadataUrls);
      if (insecure !== undefined) {
        ctx.metadata.forget(key);
        return { ok: false, reason: 'InsecureMetadataURL', message: insecure };
      }
      const refreshRequest = p.metadata.annotations?.[REFRESH_METADATA_ANNOTATION];
      const refreshMs = parseDuration(spec.metadata.refreshInterval ?? SSO_PROFILE_DEFAULTS.metadataRefreshInterval);
      const st = ctx.metadata.get(key, { url, refreshMs, trust, ...(refreshRequest !== undefined ? { refreshRequest } : {}) });
      const reason = st.lastErrorReason ?? 'MetadataFetchFailed';
      if (st.descriptor === undefined) {
        if (st.lastError) return { ok: false, reason, message: reason === 'MetadataFetchFailed' ? `fetching ${url} failed: ${st.lastError}` : `the metadata at ${url} is refused: ${st.lastError}` };
        return { ok: false, reason: 'MetadataPending', message: `fetching ${url}`, pending: true };
      }
      assertNotExpired(st.descriptor, now);
      const stale = st.lastError ? { reason, note: `; the last refresh failed (${st.lastError}), using the copy fetched at ${st.fetchedAt?.toISOString()}` } : undefined;
      return { ok: true, idp: st.descriptor, fetchedAt: st.fetchedAt, ...(stale ? { stale } : {}) };
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

export const idpStep: Step<ProfileReconcile, 'IdPConfigValid' | 'CertificateValid'> = {
  name: 'IdP',
  owns: ['IdPConfigValid', 'CertificateValid'],
  run(r, conditions) {
    const { now } = r;
    if (r.profile.spec.oidc) return runOIDCProvider(r, r.profile.spec.oidc, conditions);
    // A profile that moved from OIDC to SAML stops fetching its provider.
    r.ctx.oidcProviders.forget(`${r.profile.metadata.namespace}/${r.profile.metadata.name}`);
    r.status.oidc = undefined;
    const idp = resolveIdP(r.ctx, r.profile, now);
    let requeueAfterMs: number | undefined;
    if (!idp.ok) {
      r.idpPending = idp.pending ?? false;
      r.status.idp = undefined;
      conditions.set({ type: 'IdPConfigValid', status: idp.pending ? 'Unknown' : 'False', reason: idp.reason, message: idp.message });
      conditions.set({ type: 'CertificateValid', status: 'Unknown', reason: 'IdPConfigInvalid', message: 'no certificates to check: the IdP configuration is not valid' });
      return {};
    }
    r.idp = { descriptor: idp.idp, certificates: [] };
    try {
      const certificates = idp.idp.certificates.map(parseCertificate);
      r.idp.certificates = certificates;
      const verdict = judgeCertificates(certificates, r.ctx.config.certificateExpiryWarning, now);
      // Judged again when a certificate's verdict or the metadata's validUntil changes.
      const nextChange = [verdict.nextChange, idp.idp.validUntil].filter((d) => d !== undefined).map((d) => d.getTime());
      if (nextChange.length > 0) requeueAfterMs = Math.max(1000, Math.min(Math.min(...nextChange) - now.getTime() + 1000, MAX_CERTIFICATE_RECHECK_MS));
      // Still True while a stale copy serves; the reason says why it is stale.
      conditions.set({ type: 'IdPConfigValid', status: 'True', reason: idp.stale?.reason ?? 'Valid', message: `IdP ${idp.idp.entityID}, SSO URL ${idp.idp.ssoURL}, ${certificates.length} signing certificate(s)${idp.stale?.note ?? ''}` });
      conditions.set({ type: 'CertificateValid', status: verdict.status, reason: verdict.reason, message: verdict.message });
    } catch (err) {
      if (!(err instanceof IdPConfigError)) throw err;
      conditions.set({ type: 'IdPConfigValid', status: 'False', reason: err.reason, message: err.message });
      conditions.set({ type: 'CertificateValid', status: 'Unknown', reason: 'IdPConfigInvalid', message: 'no certificates to check: the IdP configuration is not valid' });
    }
    r.status.idp = {
      entityID: idp.idp.entityID,
      ssoURL: idp.idp.ssoURL,
      certificates: r.idp.certificates.map((c) => ({ fingerprintSHA256: c.fingerprintSHA256, subject: c.subject.slice(0, 1024), notBefore: rfc3339(c.notBefore), notAfter: rfc3339(c.notAfter) })),
      metadataFetchedTime: idp.fetchedAt && rfc3339(idp.fetchedAt),
    };
    return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
  },
};
