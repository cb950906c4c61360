// Building blocks shared by the three kinds. Every constraint here ends up in the CRD's OpenAPI
// schema (and so is enforced by the API server), and in the TypeScript types the operator and the
// sp-server use.
import { z } from 'zod';

export const GROUP = 'sso.gatehouse.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

// Kubernetes evaluates `pattern` with Go's RE2: no look-arounds, so lengths are separate limits.
const DNS_LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
export const DNS_NAME_PATTERN = `^(${DNS_LABEL}[.])+${DNS_LABEL}$`; // [.] needs no escaping inside CEL strings

/** A lower-case, fully qualified DNS name with at least two labels, e.g. `example.com`. */
export const dnsName = z
  .string()
  .min(3)
  .max(253)
  .regex(new RegExp(DNS_NAME_PATTERN))
  .meta({
    description: 'A lower-case DNS name with at least two labels, e.g. example.com.',
  });

// The local part is kept permissive (IdPs send what the directory holds); the domain part must
// be a DNS name. The CEL rule says so in words a human can act on.
export const email = z
  .string()
  .min(3)
  .max(320)
  .regex(/^[^@\s]+@[^@\s]+$/)
  .meta({
    description: 'An email address. Compared case-insensitively.',
    'x-kubernetes-validations': [
      {
        rule: `self.substring(self.lastIndexOf('@') + 1).lowerAscii().matches('${DNS_NAME_PATTERN}')`,
        message: 'the domain part of the email must be a DNS name such as example.com',
      },
    ],
  });

export const roleName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9._:-]*[a-z0-9])?$/)
  .meta({ description: 'An application role, e.g. admin or billing:read.' });

export const CONDITION_REASON_PATTERN = '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$';

/** metav1.Condition, field for field. */
export const condition = z.object({
  type: z
    .string()
    .max(316)
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/),
  status: z.enum(['True', 'False', 'Unknown']),
  observedGeneration: z.int().min(0).optional(),
  lastTransitionTime: z.iso.datetime({ offset: true }),
  reason: z.string().min(1).max(1024).regex(new RegExp(CONDITION_REASON_PATTERN)),
  message: z.string().max(32768),
});
export type Condition = z.infer<typeof condition>;

export const conditions = z.array(condition).max(32).meta({
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
});

export const httpsOrHttpUrl = z.string().max(2048).regex(/^https?:\/\/[^\s]+$/);

/** The fields every kind shares in its status. */
export const commonStatus = {
  observedGeneration: z.int().min(0).optional(),
  conditions: conditions.optional(),
};
