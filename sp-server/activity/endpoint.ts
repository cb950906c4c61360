// GET /internal/v1/activity/:namespace?limit=N on the metrics listener: an organization's latest
// sign-ins and refusals for the admin portal, behind a bearer token shared with it
// (--internal-token-file). Never on the public port.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ACTIVITY_ENTRIES_PER_ORGANIZATION, type ActivityStore } from './store.ts';

export const ACTIVITY_PATH_PREFIX = '/internal/v1/activity/';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const activityQuery = z.object({
  limit: z.coerce.number().int().min(1).max(ACTIVITY_ENTRIES_PER_ORGANIZATION).default(50),
});

export interface ActivityEndpoint {
  store: ActivityStore;
  /** The bearer token the caller must present. */
  token: string;
}

/** The token file's content, trimmed; an empty file is refused (it would admit an empty bearer). */
export function readInternalToken(path: string): string {
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < 16) throw new Error(`--internal-token-file ${path} holds no token of at least 16 characters`);
  return token;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

/** Whether the request is for this endpoint (then it is answered here). */
export function handleActivityRequest(endpoint: ActivityEndpoint, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://internal');
  if (req.method !== 'GET' || !url.pathname.startsWith(ACTIVITY_PATH_PREFIX)) return false;
  // Equal-length digests: the comparison takes the same time whatever the presented token.
  const presented = /^Bearer ([^\s]+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
  if (!timingSafeEqual(digest(presented), digest(endpoint.token)) || presented === '') {
    json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
    return true;
  }
  const namespace = url.pathname.slice(ACTIVITY_PATH_PREFIX.length);
  const query = activityQuery.safeParse(Object.fromEntries(url.searchParams));
  if (!DNS_LABEL.test(namespace) || !query.success) {
    json(res, 400, { error: 'invalid_request', error_description: !query.success ? `limit must be an integer from 1 to ${ACTIVITY_ENTRIES_PER_ORGANIZATION}` : 'the namespace is not a DNS label' });
    return true;
  }
  endpoint.store.latest(namespace, query.data.limit).then(
    (entries) => json(res, 200, { entries }),
    () => json(res, 503, { error: 'activity_unavailable' }),
  );
  return true;
}
