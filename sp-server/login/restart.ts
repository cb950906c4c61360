// The restart after an IdP-initiated response: the ACS remembers, server-side, which profile's IdP
// sent it, and the next /authorize without a login hint goes straight back to that profile. The
// browser holds only a random handle, so it cannot name a profile itself.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ProfileRef } from '../config/store.ts';
import type { AppContext } from '../context.ts';
import { randomToken, readCookie, RESTART_COOKIE, setCookie, sha256b64url } from '../http-util.ts';

/** How long the application has to send the browser back to /authorize after the ACS. */
const RESTART_SECONDS = 300;
const HANDLE = /^[A-Za-z0-9_-]{43}$/;
const restartTarget = z.object({ namespace: z.string().min(1).max(63), profile: z.string().min(1).max(253) });

const keyOf = (handle: string): string => `restart:${sha256b64url(handle)}`;

/** Plants the restart cookie for `ref`: call only for a response that passed every check but InResponseTo. */
export async function rememberRestart(gh: AppContext, reply: FastifyReply, ref: ProfileRef): Promise<void> {
  const handle = randomToken();
  await gh.store.put(keyOf(handle), JSON.stringify({ namespace: ref.org.namespace, profile: ref.profile.name }), RESTART_SECONDS * 1000);
  setCookie(reply, RESTART_COOKIE, handle, RESTART_SECONDS, gh.secureCookies);
}

/**
 * The profile the browser's restart cookie stands for, used once; undefined when there is no
 * cookie, or one the ACS did not set (forged, altered, expired, already used).
 */
export async function takeRestart(gh: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<ProfileRef | undefined> {
  const handle = readCookie(req, RESTART_COOKIE, gh.secureCookies);
  if (handle === undefined) return undefined;
  setCookie(reply, RESTART_COOKIE, '', 0, gh.secureCookies);
  if (!HANDLE.test(handle)) return undefined;
  const raw = await gh.store.take(keyOf(handle));
  if (raw === null) return undefined;
  const target = restartTarget.safeParse(JSON.parse(raw));
  return target.success ? gh.config.profile(target.data.namespace, target.data.profile) : undefined;
}
