// Typed queue keys and the strings the work queue deduplicates on.
import { describe, expect, it } from 'vitest';
import { decodeKey, encodeKey, queueKey, type QueueKey } from './queue-key.ts';

describe('queue keys', () => {
  it('round-trip through the string the queue deduplicates on', () => {
    const keys: QueueKey[] = [queueKey.config, queueKey.namespace('acme'), queueKey.ssoProfile('acme', 'okta'), queueKey.managedUser('acme', 'alice'), queueKey.verifiedDomain('acme', 'acme-com')];
    for (const k of keys) expect(decodeKey(encodeKey(k))).toEqual(k);
    expect(new Set(keys.map(encodeKey)).size).toBe(keys.length);
    expect(encodeKey(queueKey.ssoProfile('acme', 'okta'))).toBe(encodeKey({ kind: 'SSOProfile', namespace: 'acme', name: 'okta' }));
  });

  it('refuses a string that is not a key', () => {
    expect(() => decodeKey('Secret/acme/x')).toThrow('not a queue key');
  });
});
