// Setup links: time-limited, single-use, single-organization entry to the portal, minted by the
// application's backend (the HTTP API) or a platform engineer (portal/setup-links/mint-link.ts
// through kubectl exec). They live in one ConfigMap in Gatehouse's namespace, which the portal's
// Role names (no other ConfigMap or Secret is readable): one key per link, holding the sha256 of
// its token, never the token. Redeeming removes the key with the ConfigMap's resourceVersion as
// precondition, so of two redemptions racing across replicas exactly one succeeds.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { KubeApiError, type KubeClient } from '../../kube/client.ts';
import { pathOf } from '../../kube/resources.ts';

/** How long a setup link may work: the API, the kubectl path and the portal's default share the bounds. */
export const MIN_SETUP_LINK_TTL_MS = 60_000;
export const MAX_SETUP_LINK_TTL_MS = 7 * 24 * 3_600_000;
export const setupLinkTTLAllowed = (ms: number): boolean => ms >= MIN_SETUP_LINK_TTL_MS && ms <= MAX_SETUP_LINK_TTL_MS;

/** Live links kept at most (a ConfigMap holds 1 MiB; each entry is ~250 bytes). */
export const MAX_LIVE_LINKS = 1000;

const entry = z.object({
  namespace: z.string().min(1).max(63),
  tokenSHA256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  createdBy: z.string().max(320),
  /** The admin the link was minted for, as the application knows them: Events name them. */
  issuedTo: z.string().max(320).optional(),
});
export type SetupLinkEntry = z.infer<typeof entry>;
export type SetupLinkInfo = Omit<SetupLinkEntry, 'tokenSHA256'> & { id: string };

const LINK = /^([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;

export type Redemption = { ok: true; id: string; namespace: string; createdBy: string; issuedTo?: string | undefined } | { ok: false; reason: 'malformed' | 'unknown' | 'expired' };

interface ConfigMap {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

export class SetupLinkError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'SetupLinkError';
    this.statusCode = statusCode;
  }
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export class SetupLinks {
  private readonly kube: KubeClient;
  private readonly namespace: string;
  private readonly name: string;
  private readonly publicURL: string;
  private readonly now: () => Date;

  constructor(kube: KubeClient, o: { namespace: string; configMap: string; publicURL: string; now?: () => Date }) {
    this.kube = kube;
    this.namespace = o.namespace;
    this.name = o.configMap;
    this.publicURL = o.publicURL;
    this.now = o.now ?? (() => new Date());
  }

  private path(): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/configmaps/${encodeURIComponent(this.name)}`;
  }

  private async read(): Promise<ConfigMap> {
    try {
      return await this.kube.call<ConfigMap>('GET', this.path());
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404)
        throw new SetupLinkError(503, `the ConfigMap ${this.namespace}/${this.name} that holds setup links does not exist (the chart creates it)`);
      throw err;
    }
  }

  private live(cm: ConfigMap): Map<string, SetupLinkEntry> {
    const now = this.now().getTime();
    const out = new Map<string, SetupLinkEntry>();
    for (const [id, raw] of Object.entries(cm.data ?? {})) {
      let parsed: z.ZodSafeParseResult<SetupLinkEntry>;
      try {
        parsed = entry.safeParse(JSON.parse(raw));
      } catch {
        continue;
      }
      if (parsed.success && Date.parse(parsed.data.expiresAt) > now) out.set(id, parsed.data);
    }
    return out;
  }

  /** Writes `entries` as the whole data, guarded by the resourceVersion read; false on a lost race. */
  private async write(cm: ConfigMap, entries: Map<string, SetupLinkEntry>): Promise<boolean> {
    const data = Object.fromEntries([...entries].map(([id, e]) => [id, JSON.stringify(e)]));
    try {
      await this.kube.call('PUT', this.path(), { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...cm.metadata }, data }, retries: 0 });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 409) return false;
      throw err;
    }
  }

  async mint(namespace: string, createdBy: string, ttlMs: number, issuedTo?: string): Promise<SetupLinkInfo & { url: string }> {
    try {
      await this.kube.call('GET', pathOf('Namespace', undefined, namespace));
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) throw new SetupLinkError(404, `no namespace ${namespace}: an organization is a namespace`);
      throw err;
    }
    const id = randomBytes(8).toString('hex');
    const token = randomBytes(32).toString('base64url');
    const created = this.now();
    const e: SetupLinkEntry = {
      namespace,
      tokenSHA256: sha256(token),
      createdAt: created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      expiresAt: new Date(created.getTime() + ttlMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      createdBy: createdBy.slice(0, 320),
      ...(issuedTo ? { issuedTo: issuedTo.slice(0, 320) } : {}),
    };
    for (let attempt = 0; attempt < 8; attempt++) {
      const cm = await this.read();
      const entries = this.live(cm);
      if (entries.size >= MAX_LIVE_LINKS) throw new SetupLinkError(429, `${MAX_LIVE_LINKS} setup links are live; revoke some or let them expire`);
      entries.set(id, e);
      if (await this.write(cm, entries)) {
        const { tokenSHA256: _t, ...info } = e;
        return { id, ...info, url: `${this.publicURL}/setup/${id}.${token}` };
      }
    }
    throw new SetupLinkError(503, 'the setup links ConfigMap is changing too fast; try again');
  }

  /** The link's organization if it is live and the token matches; nothing is consumed. */
  async check(link: string): Promise<Redemption> {
    const m = LINK.exec(link);
    if (!m) return { ok: false, reason: 'malformed' };
    const [, id, token] = m as unknown as [string, string, string];
    const cm = await this.read();
    return this.verify(cm, id, token);
  }

  private verify(cm: ConfigMap, id: string, token: string): Redemption {
    const raw = cm.data?.[id];
    if (!raw) return { ok: false, reason: 'unknown' };
    const parsed = entry.safeParse(JSON.parse(raw));
    if (!parsed.success) return { ok: false, reason: 'unknown' };
    if (!timingSafeEqual(Buffer.from(sha256(token), 'hex'), Buffer.from(parsed.data.tokenSHA256, 'hex'))) return { ok: false, reason: 'unknown' };
    if (Date.parse(parsed.data.expiresAt) <= this.now().getTime()) return { ok: false, reason: 'expired' };
    return { ok: true, id, namespace: parsed.data.namespace, createdBy: parsed.data.createdBy, issuedTo: parsed.data.issuedTo };
  }

  /** Consumes the link: of concurrent redemptions exactly one gets ok. */
  async redeem(link: string): Promise<Redemption> {
    const m = LINK.exec(link);
    if (!m) return { ok: false, reason: 'malformed' };
    const [, id, token] = m as unknown as [string, string, string];
    for (let attempt = 0; attempt < 8; attempt++) {
      const cm = await this.read();
      const verdict = this.verify(cm, id, token);
      if (!verdict.ok) return verdict;
      const entries = this.live(cm);
      entries.delete(id);
      if (await this.write(cm, entries)) return verdict;
    }
    throw new SetupLinkError(503, 'the setup links ConfigMap is changing too fast; try again');
  }

  /** Revokes a link; false when there was no such live link. */
  async revoke(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const cm = await this.read();
      const entries = this.live(cm);
      if (!entries.has(id)) return false;
      entries.delete(id);
      if (await this.write(cm, entries)) return true;
    }
    throw new SetupLinkError(503, 'the setup links ConfigMap is changing too fast; try again');
  }

  async list(namespace?: string): Promise<SetupLinkInfo[]> {
    const entries = this.live(await this.read());
    return [...entries]
      .filter(([, e]) => !namespace || e.namespace === namespace)
      .map(([id, { tokenSHA256: _t, ...info }]) => ({ id, ...info }));
  }
}

/** Who acts through a redeemed link, as Events and the portal's header name them. */
export function linkActorName(r: Extract<Redemption, { ok: true }>): string {
  return r.issuedTo ? `${r.issuedTo} (setup link ${r.id})` : `setup link ${r.id} (minted by ${r.createdBy})`;
}
