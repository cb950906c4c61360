// VerifiedDomain: an organization proves it controls an email domain with a DNS TXT record.
import { z } from 'zod';
import { commonStatus, dnsName } from './common.ts';

/** Setting or changing this annotation on a VerifiedDomain makes the operator look its TXT record up at once. */
export const RECHECK_ANNOTATION = 'sso.gatehouse.dev/recheck';
/** Look-ups asked for by the recheck annotation are at least this far apart per domain; a faster change waits. */
export const RECHECK_SPACING_MS = 10_000;
const recheckHint = `Set or change the annotation ${RECHECK_ANNOTATION} to look it up at once (at most once every ${RECHECK_SPACING_MS / 1000}s per domain).`;

export const verifiedDomainSpec = z
  .object({
    domain: dnsName.meta({
      description: 'The email domain to verify, lower-case, e.g. example.com. Immutable.',
      'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'spec.domain is immutable; create a new VerifiedDomain instead' }],
    }),
  })
  .meta({ description: 'The domain this organization claims.' });

export const verifiedDomainStatus = z
  .object({
    ...commonStatus,
    verification: z
      .object({
        recordName: z.string().max(300).optional().meta({ description: 'The DNS name to publish a TXT record at, e.g. _gatehouse-challenge.example.com.' }),
        recordValue: z.string().max(255).optional().meta({ description: 'The exact TXT record value to publish.' }),
        verifiedTime: z.iso.datetime({ offset: true }).optional().meta({ description: 'When the domain was first verified (kept across re-verifications).' }),
        confirmedTime: z.iso.datetime({ offset: true }).optional().meta({ description: `When the TXT record was last found. The domain is re-verified periodically after it. ${recheckHint}` }),
        lapseTime: z.iso.datetime({ offset: true }).optional().meta({ description: 'When the verification lapses unless the TXT record is found again before.' }),
        proof: z.string().max(100).optional().meta({ description: "The operator's signature over this verification. A verification without a valid proof is not trusted; status written by anyone else carries no weight." }),
        lastCheckedTime: z.iso.datetime({ offset: true }).optional().meta({ description: 'When the TXT record was last looked up.' }),
        nextCheckTime: z.iso.datetime({ offset: true }).optional().meta({ description: `When the TXT record is looked up next. ${recheckHint}` }),
        handledRecheck: z
          .string()
          .max(100)
          .optional()
          .meta({
            description: `The value of the annotation ${RECHECK_ANNOTATION} the operator last answered, with a look-up or a Conflict that needs none (a value over 64 characters as sha256:<hex>); while the annotation differs, a look-up is pending.`,
          }),
      })
      .optional(),
  })
  .meta({ description: 'What the operator observed. Verified is the condition that matters; VerificationLapsing warns that the TXT record is gone and the domain lapses at verification.lapseTime.' });

export type VerifiedDomainSpec = z.infer<typeof verifiedDomainSpec>;
export type VerifiedDomainStatus = z.infer<typeof verifiedDomainStatus>;
