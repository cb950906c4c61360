// The application's OAuth clients (from Helm values, as a JSON or YAML file).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const oauthClient = z.object({
  client_id: z.string().min(1).max(256),
  /** Matched exactly: no prefix, wildcard or normalisation. */
  redirect_uris: z.array(z.url()).min(1),
  /** sha256 (hex) of the client secret; absent for a public client (PKCE is required either way). */
  client_secret_sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** OIDC third-party-initiated login: where an IdP-initiated SAML response sends the browser to start over. */
  initiate_login_uri: z.url().optional(),
  /** The client that IdP-initiated logins are restarted for. */
  idp_initiated_default: z.boolean().default(false),
});
export type OAuthClient = z.infer<typeof oauthClient>;

export const clientsFile = z.union([z.object({ clients: z.array(oauthClient) }), z.array(oauthClient).transform((clients) => ({ clients }))]);

export function loadClientsFile(path: string): OAuthClient[] {
  const text = readFileSync(path, 'utf8');
  const raw: unknown = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  return parseClients(raw);
}

export function parseClients(raw: unknown): OAuthClient[] {
  const { clients } = clientsFile.parse(raw);
  const ids = new Set<string>();
  for (const c of clients) {
    if (ids.has(c.client_id)) throw new Error(`duplicate client_id ${c.client_id}`);
    ids.add(c.client_id);
  }
  if (clients.filter((c) => c.idp_initiated_default).length > 1) throw new Error('at most one client may be idp_initiated_default');
  return clients;
}

export function secretMatches(client: OAuthClient, secret: string): boolean {
  if (!client.client_secret_sha256) return false;
  const got = createHash('sha256').update(secret).digest();
  return timingSafeEqual(got, Buffer.from(client.client_secret_sha256, 'hex'));
}
