import { describe, expect, it } from 'vitest';
import { isObjectName } from './object-name.ts';

describe('object names from requests', () => {
  it('takes DNS-1123 subdomains only: no dot segments, slashes or capitals', () => {
    for (const ok of ['idp', 'adele-vance-contoso-example-0123456789', 'a.b-c', 'jit-0a1b']) expect(isObjectName(ok)).toBe(true);
    for (const bad of ['', '.', '..', '../other/managedusers/x', 'a/b', 'UPPER', '-a', 'a.', 'a..b', 'x'.repeat(254), 7]) expect(isObjectName(bad)).toBe(false);
  });
});
