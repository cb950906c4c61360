// Email addresses as the login paths compare them. An application may fold an address the way
// a mail system does (case, full-width letters, a trailing dot, IDN spellings); if Gatehouse
// compared the raw text, such a spelling of an enforced domain would look like a stranger's.
import { domainToASCII } from 'node:url';
import { DNS_NAME_PATTERN } from '../../crds/api/index.ts';

const DNS_NAME = new RegExp(DNS_NAME_PATTERN);
/** Control and format characters (zero-width joiners, bidi marks): applications strip or keep them inconsistently. */
const INVISIBLE = /[\p{Cc}\p{Cf}]/u;

/**
 * The canonical form of an address, or undefined when it cannot be given one safely. The domain
 * gets the UTS #46 mapping browsers and mail libraries apply (lower case, full-width forms,
 * ideographic dots, IDN to its xn-- form) without a trailing root dot, and must then be a plain
 * DNS name; the local part gets NFKC and lower case, and may not hold invisible characters.
 */
export function canonicalEmail(raw: string): string | undefined {
  const at = raw.lastIndexOf('@');
  if (at <= 0 || at === raw.length - 1) return undefined;
  const local = raw.slice(0, at).normalize('NFKC').toLowerCase();
  if (local.includes('@') || INVISIBLE.test(local) || /\s/.test(local)) return undefined;
  const domain = domainToASCII(raw.slice(at + 1)).replace(/\.$/, '');
  if (!DNS_NAME.test(domain)) return undefined;
  return `${local}@${domain}`;
}
