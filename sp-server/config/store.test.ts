import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { testProfile } from '../../test/support/saml-fixtures.ts';
import { createMetrics } from '../metrics.ts';
import type { SPConfig } from '../../crds/api/index.ts';
import { FileConfigSource } from './sources.ts';
import { ConfigStore } from './store.ts';

const logger = pino({ level: 'silent' });
const config = (over: Partial<SPConfig['organizations'][number]> = {}): SPConfig => ({
  formatVersion: 1,
  organizations: [{ namespace: 'acme', verifiedDomains: ['acme.test'], profiles: [testProfile({ domains: ['acme.test', 'acme-unverified.test'] })], ...over }],
});

describe('ConfigStore', () => {
  it('resolves email → verified domain → organization → profile, case-insensitively', () => {
    const store = new ConfigStore(logger, createMetrics());
    expect(store.applyText(JSON.stringify(config()), 'test')).toBe(true);
    expect(store.profileForEmail('Alice@ACME.test')?.profile.name).toBe('okta');
    // A profile never serves a domain its organization has not verified.
    expect(store.profileForEmail('bob@acme-unverified.test')).toBeUndefined();
    expect(store.profileForEmail('nobody@other.test')).toBeUndefined();
  });

  it('refuses an invalid document and keeps the last good one', async () => {
    const metrics = createMetrics();
    const store = new ConfigStore(logger, metrics);
    store.applyText(JSON.stringify(config()), 'good');
    const hash = store.version;
    expect(store.applyText('{"formatVersion": 2, "organizations": []}', 'bad')).toBe(false);
    expect(store.applyText('not json', 'bad')).toBe(false);
    expect(store.version).toBe(hash);
    expect(store.profileForEmail('alice@acme.test')).toBeDefined();
    expect(store.lastError).toContain('not JSON');
    expect(await metrics.registry.getSingleMetricAsString('gatehouse_sp_config_reloads_total')).toContain('result="invalid"} 2');
  });
});

describe('FileConfigSource', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('applies a changed file without a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify(config()));
    const store = new ConfigStore(logger, createMetrics());
    const source = new FileConfigSource(path, store, logger);
    await source.load();
    expect(store.profileForEmail('a@acme.test')).toBeDefined();
    writeFileSync(path, JSON.stringify(config({ namespace: 'acme2' })) + '\n');
    await source.load();
    expect(store.profileForEmail('a@acme.test')?.org.namespace).toBe('acme2');
    expect(source.healthy).toBe(true);
  });
});
