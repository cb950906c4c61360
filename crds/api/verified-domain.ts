// VerifiedDomain: an organization proves it controls an email domain with a DNS TXT record.
import { z } from 'zod';
import { commonStatus, dnsName } from './common.ts';

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
        confirmedTime: z.iso.datetime({ offset: true }).optional().meta({ description: 'When the TXT record was last found. The domain is re-verified periodically after it.' }),
        lapseTime: z.iso.datetime({ offset: true }).optional().meta({ description: 'When the verification lapses unless the TXT record is found again before.' }),
        proof: z.string().max(100).optional().meta({ description: "The operator's signature over this verification. A verification without a valid proof is not trusted; status written by anyone else carries no weight." }),
        lastCheckedTime: z.iso.datetime({ offset: true }).optional(),
        nextCheckTime: z.iso.datetime({ offset: true }).optional(),
      })
      .optional(),
  })
  .meta({ description: 'What the operator observed. Verified is the condition that matters; VerificationLapsing warns that the TXT record is gone and the domain lapses at verification.lapseTime.' });

export type VerifiedDomainSpec = z.infer<typeof verifiedDomainSpec>;
export type VerifiedDomainStatus = z.infer<typeof verifiedDomainStatus>;
