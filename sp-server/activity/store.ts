// Each organization's latest sign-ins and refusals, for its administrators (the portal's sign-in
// activity, through the internal endpoint): a bounded store, in memory or in Redis, that a login
// only ever appends to without waiting. Nothing here reaches etcd, and an entry never carries a
// secret, a token or SAML XML.
import { z } from 'zod';

/** Entries kept per organization. */
export const ACTIVITY_ENTRIES_PER_ORGANIZATION = 200;
/** Organizations the memory store keeps; the least recently written is dropped beyond it. */
export const ACTIVITY_MAX_ORGANIZATIONS = 10_000;

export const ACTIVITY_OUTCOMES = ['signed-in', 'refused', 'test-passed', 'test-failed'] as const;

export const activityEntry = z.object({
  time: z.iso.datetime({ offset: true }),
  outcome: z.enum(ACTIVITY_OUTCOMES),
  /** Only an address the IdP asserted, never one typed into a form. */
  email: z.string().max(320).optional(),
  profile: z.string().max(253).optional(),
  protocol: z.enum(['saml', 'oidc']),
  code: z.string().max(64).optional(),
  /** What the user was told. */
  message: z.string().max(1024).optional(),
  /** What the administrator should change. */
  advice: z.string().max(2048).optional(),
});

export type ActivityEntry = z.infer<typeof activityEntry>;
export type ActivityOutcome = ActivityEntry['outcome'];

export interface ActivityStore {
  /** Appends without waiting; a failure is logged, never thrown at the login. */
  record(namespace: string, entry: ActivityEntry): void;
  /** Up to `limit` entries, newest first. */
  latest(namespace: string, limit: number): Promise<ActivityEntry[]>;
}

/** One replica's memory: the newest entries per organization, least recently written organizations evicted. */
export class MemoryActivityStore implements ActivityStore {
  // A Map iterates in insertion order: re-inserting on every write keeps the least recently
  // written organization first.
  private readonly byOrganization = new Map<string, ActivityEntry[]>();
  private readonly perOrganization: number;
  private readonly maxOrganizations: number;

  constructor(perOrganization = ACTIVITY_ENTRIES_PER_ORGANIZATION, maxOrganizations = ACTIVITY_MAX_ORGANIZATIONS) {
    this.perOrganization = perOrganization;
    this.maxOrganizations = maxOrganizations;
  }

  get organizations(): number {
    return this.byOrganization.size;
  }

  record(namespace: string, entry: ActivityEntry): void {
    const entries = this.byOrganization.get(namespace) ?? [];
    this.byOrganization.delete(namespace);
    entries.unshift(entry);
    if (entries.length > this.perOrganization) entries.length = this.perOrganization;
    this.byOrganization.set(namespace, entries);
    if (this.byOrganization.size > this.maxOrganizations) {
      const oldest = this.byOrganization.keys().next().value;
      if (oldest !== undefined) this.byOrganization.delete(oldest);
    }
  }

  async latest(namespace: string, limit: number): Promise<ActivityEntry[]> {
    return (this.byOrganization.get(namespace) ?? []).slice(0, limit);
  }
}
