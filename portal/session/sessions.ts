// Portal sessions: server-side, keyed by a random 256-bit id that is the only thing in the cookie.
// Each session is bound to exactly one organization (namespace) for its whole life; nothing a
// request carries can point it at another. Idle and absolute lifetimes are enforced here, on read.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { StateStore } from '../../sp-server/state/store.ts';

export const actor = z.object({
  /** Who acts: the SSO user's email, or "setup link <id>" for a link holder before SSO works. */
  name: z.string().min(1).max(320),
  via: z.enum(['setup-link', 'sso']),
  email: z.string().max(320).optional(),
  displayName: z.string().max(256).optional(),
  setupLinkID: z.string().max(64).optional(),
});
export type Actor = z.infer<typeof actor>;

const session = z.object({
  namespace: z.string().min(1).max(63),
  actor,
  csrfToken: z.string().min(32),
  createdAt: z.number(),
  lastSeenAt: z.number(),
  /** A one-time notice shown on the next page (after a redirect). */
  flash: z.object({ kind: z.enum(['ok', 'error', 'warn']), message: z.string().max(2048), secret: z.string().max(4096).optional() }).optional(),
});
export type Session = z.infer<typeof session> & { id: string };
export type Flash = NonNullable<Session['flash']>;

const KEY = (id: string) => `session:${id}`;
const ID = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  private readonly store: StateStore;
  private readonly idleMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(store: StateStore, idleMs: number, maxMs: number, now: () => number = Date.now) {
    this.store = store;
    this.idleMs = idleMs;
    this.maxMs = maxMs;
    this.now = now;
  }

  async create(namespace: string, who: Actor): Promise<Session> {
    const t = this.now();
    const s: Session = { id: randomBytes(32).toString('base64url'), namespace, actor: who, csrfToken: randomBytes(32).toString('base64url'), createdAt: t, lastSeenAt: t };
    await this.save(s);
    return s;
  }

  /** The live session for a cookie value; an expired one is deleted. Refreshes the idle timer. */
  async get(id: string | undefined): Promise<Session | undefined> {
    if (!id || !ID.test(id)) return undefined;
    const raw = await this.store.get(KEY(id));
    if (!raw) return undefined;
    const parsed = session.safeParse(JSON.parse(raw));
    if (!parsed.success) return undefined;
    const t = this.now();
    if (t - parsed.data.lastSeenAt > this.idleMs || t - parsed.data.createdAt > this.maxMs) {
      await this.store.take(KEY(id));
      return undefined;
    }
    const s: Session = { ...parsed.data, id, lastSeenAt: t };
    // Touch at most once a minute: most page views then cost one read.
    if (t - parsed.data.lastSeenAt > 60_000) await this.save(s);
    return s;
  }

  async save(s: Session): Promise<void> {
    const { id, ...rest } = s;
    const ttl = Math.max(1000, Math.min(this.idleMs, s.createdAt + this.maxMs - this.now()));
    await this.store.put(KEY(id), JSON.stringify(rest), ttl);
  }

  async destroy(id: string): Promise<void> {
    await this.store.take(KEY(id));
  }

  /** Sets the notice for the next page. */
  async flash(s: Session, f: Flash): Promise<void> {
    await this.save({ ...s, flash: f });
  }

  /** Reads and clears the notice. */
  async takeFlash(s: Session): Promise<Flash | undefined> {
    if (!s.flash) return undefined;
    const f = s.flash;
    const { flash: _dropped, ...rest } = s;
    await this.save(rest);
    return f;
  }
}
