// OAuth client authentication, shared by /token and the login-methods API: client_secret_basic
// (HTTP Basic, RFC 6749 §2.3.1), client_secret_post, or a public client naming itself by client_id.
import { isConfidential, secretMatches, type OAuthClient } from './clients.ts';

export type ClientAuthentication = { client: OAuthClient } | { error: 'invalid_client'; description: string };

export interface ClientCredentials {
  /** The Authorization header, if any. */
  authorization: string | undefined;
  /** client_id from the body or query. */
  clientId: string | undefined;
  /** client_secret from the body (client_secret_post). */
  secret: string | undefined;
}

export async function authenticateClient(clients: ReadonlyMap<string, OAuthClient>, { authorization, clientId, secret }: ClientCredentials): Promise<ClientAuthentication> {
  const fail = (description: string): ClientAuthentication => ({ error: 'invalid_client', description });
  let id = clientId;
  let given = secret;
  if (authorization?.startsWith('Basic ')) {
    const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return fail('malformed Basic credentials');
    let basicId: string;
    // RFC 6749 §2.3.1 form-encodes both parts; a broken escape is the client's error, not ours.
    try {
      basicId = decodeURIComponent(decoded.slice(0, colon));
      given = decodeURIComponent(decoded.slice(colon + 1));
    } catch {
      return fail('malformed Basic credentials');
    }
    if (id !== undefined && id !== basicId) return fail('client_id mismatch');
    if (secret !== undefined) return fail('more than one client authentication method');
    id = basicId;
  }
  const client = id ? clients.get(id) : undefined;
  if (!client) return fail('unknown client');
  // A confidential client proves its secret; a public client must not present one.
  if (isConfidential(client) ? given === undefined || !(await secretMatches(client, given)) : given !== undefined) return fail('client authentication failed');
  return { client };
}

/** The WWW-Authenticate challenge that goes with a 401 invalid_client. */
export const BASIC_CHALLENGE = 'Basic realm="gatehouse"';
