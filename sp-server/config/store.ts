// The rendered config in use, with the lookups logins need. A new document replaces it only when
// it parses and passes the schema; otherwise the last good one stays (and a metric says so).
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import { spConfig, type DomainEnforcement, type RenderedOrganization, type RenderedProfile, type SPConfig } from '../../crds/api/index.ts';

export interface ProfileRef {
  org: RenderedOrganization;
  profile: RenderedProfile;
}

export class ConfigStore {
  private config: SPConfig | null = null;
  private hash = '';
  private byDomain = new Map<string, ProfileRef>();
  private orgByDomain = new Map<string, RenderedOrganization>();
  private byName = new Map<string, ProfileRef>();
  private byTestToken = new Map<string, ProfileRef>();
  private readonly listeners: Array<() => void> = [];
  lastError: string | undefined;
  private readonly logger: Logger;
  private readonly metrics: Metrics;

  constructor(logger: Logger, metrics: Metrics) {
    this.logger = logger;
    this.metrics = metrics;
  }

  get loaded(): boolean {
    return this.config !== null;
  }
  get version(): string {
    return this.hash;
  }
  get current(): SPConfig | null {
    return this.config;
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** Applies a JSON document; returns false (keeping the last good config) when it is invalid. */
  applyText(text: string, source: string): boolean {
    const hash = createHash('sha256').update(text).digest('hex');
    if (hash === this.hash) {
      this.metrics.configReloads.inc({ result: 'unchanged' });
      return true;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return this.refuse(source, `not JSON: ${(err as Error).message}`);
    }
    const result = spConfig.safeParse(parsed);
    if (!result.success) {
      const issues = result.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      return this.refuse(source, issues);
    }
    this.apply(result.data, hash);
    this.logger.info({ source, hash: hash.slice(0, 12), organizations: result.data.organizations.length }, 'config applied');
    return true;
  }

  apply(config: SPConfig, hash = createHash('sha256').update(JSON.stringify(config)).digest('hex')): void {
    const byDomain = new Map<string, ProfileRef>();
    const orgByDomain = new Map<string, RenderedOrganization>();
    const byName = new Map<string, ProfileRef>();
    const byTestToken = new Map<string, ProfileRef>();
    // A latched domain no profile serves (a broken profile, a lapsed verification) still belongs
    // to its organization, unless another organization has verified it since.
    for (const org of config.organizations) for (const e of org.enforcedWithoutProfile ?? []) orgByDomain.set(e.domain, org);
    for (const org of config.organizations) {
      for (const d of org.verifiedDomains) orgByDomain.set(d, org);
      for (const profile of org.profiles) {
        const ref = { org, profile };
        byName.set(`${org.namespace}/${profile.name}`, ref);
        // A profile serves only domains its organization verified.
        for (const d of profile.domains) if (org.verifiedDomains.includes(d)) byDomain.set(d, ref);
        if (profile.test) byTestToken.set(profile.test.token, ref);
      }
    }
    this.config = config;
    this.hash = hash;
    this.byDomain = byDomain;
    this.orgByDomain = orgByDomain;
    this.byName = byName;
    this.byTestToken = byTestToken;
    this.lastError = undefined;
    this.metrics.configReloads.inc({ result: 'applied' });
    this.metrics.configTimestamp.set(Date.now() / 1000);
    for (const fn of this.listeners) fn();
  }

  private refuse(source: string, reason: string): false {
    this.lastError = reason;
    this.metrics.configReloads.inc({ result: 'invalid' });
    this.logger.error({ source, reason, keeping: this.hash.slice(0, 12) || null }, 'config refused; keeping the last good one');
    return false;
  }

  /** email → domain → the organization that verified it → the profile serving that domain. */
  profileForEmail(email: string): ProfileRef | undefined {
    return this.byDomain.get(domainOf(email));
  }
  organizationForDomain(domain: string): RenderedOrganization | undefined {
    return this.orgByDomain.get(domain);
  }
  /** The owning organization's latched enforcement of a domain no rendered profile serves (broken profile, lapsed verification). */
  enforcementWithoutProfile(domain: string): DomainEnforcement | undefined {
    return this.orgByDomain.get(domain)?.enforcedWithoutProfile?.find((e) => e.domain === domain);
  }
  profile(namespace: string, name: string): ProfileRef | undefined {
    return this.byName.get(`${namespace}/${name}`);
  }
  profileForTestToken(token: string): ProfileRef | undefined {
    return this.byTestToken.get(token);
  }
}

export function domainOf(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0 ? '' : email.slice(at + 1).toLowerCase();
}

/** What the login paths accept as an email address: one @, a dot in the domain, no spaces. */
export const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
