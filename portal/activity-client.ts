// Reads an organization's latest sign-ins and refusals from the sp-server's internal endpoint
// (its metrics listener, bearer token). The portal never stores sign-in activity itself.
import { z } from 'zod';
import type { ActivityEntry, ActivitySource } from './context.ts';

const entries = z.object({
  entries: z
    .array(
      z.object({
        time: z.string().max(64),
        outcome: z.enum(['signed-in', 'refused', 'test-passed', 'test-failed']),
        email: z.string().max(320).optional(),
        profile: z.string().max(253).optional(),
        protocol: z.enum(['saml', 'oidc']),
        code: z.string().max(64).optional(),
        message: z.string().max(2048).optional(),
        advice: z.string().max(2048).optional(),
      }),
    )
    .max(200),
});

export class HTTPActivitySource implements ActivitySource {
  private readonly base: string;
  private readonly token: string;
  constructor(base: string, token: string) {
    this.base = base.replace(/\/$/, '');
    this.token = token;
  }

  async latest(namespace: string, limit: number): Promise<ActivityEntry[]> {
    const res = await fetch(`${this.base}/internal/v1/activity/${encodeURIComponent(namespace)}?limit=${Math.max(1, Math.min(200, limit))}`, {
      headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`the sp-server answered ${res.status} for sign-in activity`);
    return entries.parse(await res.json()).entries;
  }
}
