// The application's OAuth clients, from the Helm values (a JSON or YAML file). Both spellings are
// read: the chart's camelCase (clientId, redirectUris, public, clientSecretHash "sha256:<hex>" or
// an argon2id PHC string, idpInitiatedDefault, initiateLoginUri, idTokenSignedResponseAlg,
// allowedScopes) and OAuth's snake_case.
import { argon2, createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ID_TOKEN_ALGS } from './keys.ts';
import { SCOPES } from './scopes.ts';

const ARGON2_PHC = /^\$argon2(id|i|d)\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

const clientFields = z
  .object({
    client_id: z.string().min(1).max(256),
    /** Matched exactly: no prefix, wildcard or normalisation. */
    redirect_uris: z.array(z.url()).min(1),
    /** sha256 (hex) of the client secret. */
    client_secret_sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    /** argon2id PHC string of the client secret. */
    client_secret_argon2: z.string().regex(ARGON2_PHC).optional(),
    /** A public client has no secret; PKCE is required from every client anyway. */
    public: z.boolean().optional(),
    /** OIDC third-party-initiated login: where an IdP-initiated SAML response sends the browser to start over. */
    initiate_login_uri: z.url().optional(),
    /** The client that IdP-initiated logins are restarted for. */
    idp_initiated_default: z.boolean().default(false),
    /** OIDC Dynamic Client Registration's default, RS256, unless the client asks for ES256. */
    id_token_signed_response_alg: z.enum(ID_TOKEN_ALGS).default('RS256'),
    /** The scopes this client may be granted; a request for another known scope is refused. */
    allowed_scopes: z
      .array(z.enum(SCOPES))
      .refine((s) => s.includes('openid'), { message: 'allowedScopes must include openid' })
      .default([...SCOPES]),
    /** The admin portal lets this (confidential) client mint organizations' setup links. */
    mint_setup_links: z.boolean().default(false),
  })
  .refine((c) => !(c.public === true && (c.client_secret_sha256 || c.client_secret_argon2)), { message: 'a public client has no secret' })
  .refine((c) => !(c.public === false && !c.client_secret_sha256 && !c.client_secret_argon2), { message: 'a confidential client needs clientSecretHash' })
  .refine((c) => !c.mint_setup_links || c.client_secret_sha256 !== undefined || c.client_secret_argon2 !== undefined, { message: 'mintSetupLinks needs a confidential client (clientSecretHash)' });

function normalise(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const r = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const rename: Record<string, string> = {
    clientId: 'client_id',
    redirectUris: 'redirect_uris',
    initiateLoginUri: 'initiate_login_uri',
    idpInitiatedDefault: 'idp_initiated_default',
    idTokenSignedResponseAlg: 'id_token_signed_response_alg',
    allowedScopes: 'allowed_scopes',
    mintSetupLinks: 'mint_setup_links',
  };
  for (const [k, v] of Object.entries(r)) {
    if (k === 'clientSecretHash' && typeof v === 'string') {
      if (v.startsWith('sha256:')) out.client_secret_sha256 = v.slice(7).toLowerCase();
      else out.client_secret_argon2 = v;
    } else out[rename[k] ?? k] = v;
  }
  return out;
}

export const oauthClient = z.preprocess(normalise, clientFields);
export type OAuthClient = z.infer<typeof clientFields>;
/** A client as code writes it: the fields with defaults may be left out. */
export type OAuthClientInput = z.input<typeof clientFields>;

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

export function isConfidential(client: OAuthClient): boolean {
  return client.client_secret_sha256 !== undefined || client.client_secret_argon2 !== undefined;
}

export async function secretMatches(client: OAuthClient, secret: string): Promise<boolean> {
  if (client.client_secret_sha256) {
    const got = createHash('sha256').update(secret).digest();
    return timingSafeEqual(got, Buffer.from(client.client_secret_sha256, 'hex'));
  }
  const phc = client.client_secret_argon2 ? ARGON2_PHC.exec(client.client_secret_argon2) : null;
  if (!phc) return false;
  const digest = createHash('sha256').update(secret).digest();
  const accepted = acceptedArgon2.get(phc[0]);
  if (accepted && timingSafeEqual(accepted, digest)) return true;
  const [, variant, m, t, p, salt, hash] = phc as unknown as [string, 'id' | 'i' | 'd', string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64');
  // Asynchronous: argon2 is deliberately expensive and must not block the event loop.
  const got = await new Promise<Buffer>((resolve, reject) =>
    argon2(
      `argon2${variant}`,
      { message: secret, nonce: Buffer.from(salt, 'base64'), parallelism: Number(p), tagLength: expected.length, memory: Number(m), passes: Number(t) },
      (err, key) => (err ? reject(err) : resolve(Buffer.from(key))),
    ),
  );
  const ok = got.length === expected.length && timingSafeEqual(got, expected);
  if (ok) acceptedArgon2.set(phc[0], digest);
  return ok;
}

// The secret each argon2 hash last accepted, as its sha256 (what a sha256 client registration
// holds anyway): the application presents it on every /token and login-methods call, and the
// deliberately slow hash then runs only for a secret not seen before.
const acceptedArgon2 = new Map<string, Buffer>();
