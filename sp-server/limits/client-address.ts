// Who the client is: the socket's peer unless the peer is a proxy this installation trusts, so a
// forged X-Forwarded-For from anyone else cannot pick the address the limits count against.
import type { FastifyRequest } from 'fastify';
import { normalizeIP } from '@fastify/rate-limit';

/** Fastify's trustProxy: false (trust nothing), a hop count, or the proxies' addresses/CIDRs. */
export type TrustedProxies = false | number | string[];

const CIDR = /^[0-9a-fA-F:.]+(\/\d{1,3})?$/;

/**
 * The --trusted-proxies flag: empty (trust nothing), a number of hops, or comma-separated
 * addresses and CIDRs (proxy-addr's names loopback, linklocal and uniquelocal too).
 */
export function parseTrustedProxies(value: string | undefined): TrustedProxies {
  const v = value?.trim() ?? '';
  if (v === '' || v === '0') return false;
  if (/^\d+$/.test(v)) return Number(v);
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const entry of list) {
    if (!CIDR.test(entry) && !['loopback', 'linklocal', 'uniquelocal'].includes(entry)) throw new Error(`--trusted-proxies: ${JSON.stringify(entry)} is neither an address, a CIDR, nor a hop count`);
  }
  return list;
}

/** The value of Fastify's trustProxy option for these proxies. */
export function trustProxyOption(proxies: TrustedProxies): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof proxies === 'number') return (_address, hop) => hop < proxies;
  return proxies;
}

/** The rate-limit key of the client: its address, an IPv6 client's /64 (one subscriber's prefix). */
export function clientKey(req: FastifyRequest): string {
  const ip = req.ip;
  // Without a colon it is no IPv6 address, and normalizeIP's IPv6 test (a long regular expression) would only lower-case it.
  return ip.includes(':') ? normalizeIP(ip) : ip.toLowerCase();
}
