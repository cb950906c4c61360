// Strict validation of a SAML 2.0 Response (HTTP-POST binding) against one rendered profile.
import type { RenderedProfile } from '../config/schema.ts';
import { SamlValidationError } from './errors.ts';

export interface ReplayCache {
  /** Records an assertion ID until `expiresAt`; resolves false when it was already seen. */
  remember(assertionID: string, expiresAt: Date): Promise<boolean>;
}

export interface ValidationContext {
  profile: RenderedProfile;
  /** The ID of the browser's pending AuthnRequest; null when there is none (unsolicited). */
  expectedInResponseTo: string | null;
  now?: Date;
  replay: ReplayCache;
}

export interface ValidatedAssertion {
  issuer: string;
  nameID: string;
  nameIDFormat?: string;
  sessionIndex?: string;
  authnInstant?: Date;
  assertionID: string;
  inResponseTo?: string;
  /** The earliest NotOnOrAfter of Conditions and the bearer SubjectConfirmationData. */
  notOnOrAfter: Date;
  attributes: Record<string, string[]>;
}

export async function validateSamlResponse(samlResponseBase64: string, ctx: ValidationContext): Promise<ValidatedAssertion> {
  void samlResponseBase64;
  void ctx;
  throw new SamlValidationError('MALFORMED_RESPONSE', 'validation is not available yet');
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Reads InResponseTo from the Response's start tag without parsing or verifying anything, so the
 * ACS can find the pending request (or recognise an unsolicited response). Untrusted.
 */
export function peekInResponseTo(samlResponseBase64: string): string | null {
  if (samlResponseBase64.length > (MAX_RESPONSE_BYTES * 4) / 3 + 4) return null;
  const xml = Buffer.from(samlResponseBase64, 'base64').toString('utf8');
  let i = 0;
  // Skip the XML declaration, comments and whitespace before the root element.
  for (;;) {
    i = xml.indexOf('<', i);
    if (i < 0) return null;
    if (xml.startsWith('<?', i)) i = xml.indexOf('?>', i) + 2;
    else if (xml.startsWith('<!--', i)) i = xml.indexOf('-->', i) + 3;
    else break;
    if (i < 2) return null;
  }
  const end = xml.indexOf('>', i);
  if (end < 0) return null;
  const match = /\sInResponseTo\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/.exec(xml.slice(i, end));
  const value = match?.[1] ?? match?.[2];
  return value === undefined || value === '' ? null : value;
}

/** A process-local replay cache for a single replica; Redis backs it when there are several. */
export const memoryReplayCache = (): ReplayCache => {
  const seen = new Map<string, number>();
  let nextSweep = 0;
  return {
    async remember(assertionID: string, expiresAt: Date): Promise<boolean> {
      const now = Date.now();
      if (now >= nextSweep) {
        for (const [id, until] of seen) if (until <= now) seen.delete(id);
        nextSweep = now + 10_000;
      }
      const until = seen.get(assertionID);
      if (until !== undefined && until > now) return false;
      seen.set(assertionID, Math.max(expiresAt.getTime(), now + 1000));
      return true;
    },
  };
};
