import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('operator configuration', () => {
  it('reads flags, with environment fallbacks and defaults', () => {
    const c = loadConfig(
      ['--namespace=gatehouse', '--sp-public-url', 'https://sso.example.com/', '--leader-elect', '--dns-servers=127.0.0.1:5353,10.0.0.1:53'],
      { GATEHOUSE_CERTIFICATE_EXPIRY_WARNING: '48h' },
    );
    expect(c.namespace).toBe('gatehouse');
    expect(c.spPublicUrl).toBe('https://sso.example.com');
    expect(c.leaderElect).toBe(true);
    expect(c.dnsServers).toEqual(['127.0.0.1:5353', '10.0.0.1:53']);
    expect(c.certificateExpiryWarning).toBe(48 * 3_600_000);
    expect(c.configSecret).toBe('gatehouse-sp-config');
    expect(c.leaseDuration).toBe(15_000);
    expect(c.allowPrivateMetadataUrls).toBe(false);
    expect(c.allowInsecureMetadataUrls).toBe(false);
  });

  it('allows http:// metadata URLs only when the installation says so, by flag or environment', () => {
    const base = ['--namespace=gatehouse', '--sp-public-url=https://sso.example.com'];
    expect(loadConfig([...base, '--allow-insecure-metadata-urls'], {}).allowInsecureMetadataUrls).toBe(true);
    expect(loadConfig(base, { GATEHOUSE_ALLOW_INSECURE_METADATA_URLS: 'true' }).allowInsecureMetadataUrls).toBe(true);
  });

  it('gives test links a 24h lifetime unless --test-link-ttl says otherwise, within 1s and 720h', () => {
    const base = ['--namespace=gatehouse', '--sp-public-url=https://sso.example.com'];
    expect(loadConfig(base, {}).testLinkTtl).toBe(24 * 3_600_000);
    expect(loadConfig([...base, '--test-link-ttl=90m'], {}).testLinkTtl).toBe(90 * 60_000);
    expect(() => loadConfig([...base, '--test-link-ttl=721h'], {})).toThrow(/test link lifetime/);
    expect(() => loadConfig([...base, '--test-link-ttl=500ms'], {})).toThrow(/test link lifetime/);
  });

  it('refuses unknown flags and missing required settings', () => {
    expect(() => loadConfig(['--nope=1'], {})).toThrow(/unknown flag --nope/);
    expect(() => loadConfig(['--namespace=x'], {})).toThrow(/spPublicUrl/);
  });
});
