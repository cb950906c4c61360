// Step 1, the IdP: resolve the configuration (inline, by metadata XML or URL) and judge its
// signing certificates. Owns IdPConfigValid and CertificateValid.
import { parseDuration, SSO_PROFILE_DEFAULTS, type SSOProfile } from '../../../crds/api/index.ts';
import { rfc3339 } from '../../conditions.ts';
import type { Context } from '../../context.ts';
import { IdPConfigError, judgeCertificates, parseCertificate, parseIdPMetadata, splitPem, type IdPDescriptor } from '../../idp/metadata.ts';
import type { Step } from '../steps.ts';
import type { ProfileReconcile } from './state.ts';

type IdPResult = { ok: true; idp: IdPDescriptor; fetchedAt?: Date; note?: string } | { ok: false; reason: string; message: string; pending?: boolean };

/** Longest wait before the certificates are judged again (expiry warnings move with time). */
const MAX_CERTIFICATE_RECHECK_MS = 24 * 3_600_000;

export function resolveIdP(metadata: Pick<Context['metadata'], 'get'>, p: SSOProfile): IdPResult {
  const spec = p.spec.idp;
  try {
    if (spec.metadata?.xml !== undefined) return { ok: true, idp: parseIdPMetadata(spec.metadata.xml) };
    if (spec.metadata?.url !== undefined) {
      const st = metadata.get(`${p.metadata.namespace}/${p.metadata.name}`, spec.metadata.url, parseDuration(spec.metadata.refreshInterval ?? SSO_PROFILE_DEFAULTS.metadataRefreshInterval));
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

export const idpStep: Step<ProfileReconcile, 'IdPConfigValid' | 'CertificateValid'> = {
  name: 'IdP',
  owns: ['IdPConfigValid', 'CertificateValid'],
  run(r, conditions) {
    const { now } = r;
    const idp = resolveIdP(r.ctx.metadata, r.profile);
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
      if (verdict.nextChange) requeueAfterMs = Math.max(1000, Math.min(verdict.nextChange.getTime() - now.getTime() + 1000, MAX_CERTIFICATE_RECHECK_MS));
      conditions.set({ type: 'IdPConfigValid', status: 'True', reason: 'Valid', message: `IdP ${idp.idp.entityID}, SSO URL ${idp.idp.ssoURL}, ${certificates.length} signing certificate(s)${idp.note ?? ''}` });
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
