import { describe, expect, it } from 'vitest';
import { emailLabelKey, userNameForEmail } from './labels.ts';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe('ManagedUser names and index labels', () => {
  it('derives a valid, deterministic, case-insensitive DNS-1123 name from an email', () => {
    for (const email of ['Adele.Vance@Contoso.example', '--@x.example', `${'a'.repeat(300)}@x.example`, 'ünïcode+tag@x.example']) {
      const name = userNameForEmail(email);
      expect(name, email).toMatch(DNS_SUBDOMAIN);
      expect(name.length).toBeLessThanOrEqual(63);
      expect(userNameForEmail(email.toUpperCase())).toBe(name);
    }
    expect(userNameForEmail('adele.vance@contoso.example')).toMatch(/^adele-vance-contoso-example-[0-9a-f]{10}$/);
    // Same slug, different addresses: the hash keeps them apart.
    expect(userNameForEmail('a.b@x.example')).not.toBe(userNameForEmail('a-b@x.example'));
  });

  it('keys email labels within the 63-character name limit, case-insensitively', () => {
    const key = emailLabelKey('Alice@Example.com');
    expect(key).toBe(emailLabelKey('alice@example.com'));
    expect(key.split('/')[1]!.length).toBeLessThanOrEqual(63);
    expect(key).toMatch(/^sso\.gatehouse\.dev\/email-[0-9a-f]{50}$/);
  });
});
