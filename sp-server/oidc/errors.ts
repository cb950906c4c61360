// What went wrong in openid-client's code exchange and ID token checks, as Gatehouse's stable
// refusal codes: openid-client reports a generic message with a code and the failed claim in
// its cause; the administrator needs to know which setting to change.
import * as client from 'openid-client';
import { EgressRefusedError } from '../../egress/address-guard.ts';
import { LoginRefusal } from '../login/complete.ts';
import { quote } from '../saml/errors.ts';

/** The operation's error inside a ClientError, with the claim it compared when it says. */
interface Detail {
  message: string;
  claim?: string;
}

function detailOf(err: client.ClientError): Detail {
  const inner = err.cause;
  if (!(inner instanceof Error)) return { message: err.message };
  const cause = (inner as Error & { cause?: unknown }).cause;
  const claim = typeof cause === 'object' && cause !== null && typeof (cause as { claim?: unknown }).claim === 'string' ? (cause as { claim: string }).claim : undefined;
  return { message: inner.message, ...(claim !== undefined ? { claim } : {}) };
}

function rootCause(err: unknown): unknown {
  let e = err;
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause !== undefined; depth++) {
    if (e instanceof EgressRefusedError) return e;
    e = e.cause;
  }
  return e;
}

/** The refusal for an error thrown by openid-client's authorizationCodeGrant; anything else is rethrown. */
export function refusalOfGrantError(err: unknown): LoginRefusal {
  if (err instanceof client.ResponseBodyError) {
    return new LoginRefusal('OIDC_TOKEN_EXCHANGE_FAILED', `the token endpoint answered ${err.status} ${err.error}${err.error_description ? `: ${quote(err.error_description)}` : ''}`, { cause: err });
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    const error = err.cause.map((c) => c.parameters.error).find((e) => e !== undefined) ?? 'a WWW-Authenticate challenge';
    return new LoginRefusal('OIDC_TOKEN_EXCHANGE_FAILED', `the token endpoint answered ${err.status} ${error}`, { cause: err });
  }
  if (err instanceof client.AuthorizationResponseError) {
    return new LoginRefusal('OIDC_UPSTREAM_ERROR', `the provider answered the sign-in with ${err.error}${err.error_description ? `: ${quote(err.error_description)}` : ''}`, { cause: err });
  }
  if (err instanceof EgressRefusedError || rootCause(err) instanceof EgressRefusedError) {
    return new LoginRefusal('OIDC_UPSTREAM_ADDRESS_REFUSED', `the egress guard refused the provider: ${(rootCause(err) as Error).message}`, { cause: err });
  }
  if (err instanceof TypeError && err.message === 'fetch failed') {
    return new LoginRefusal('OIDC_UPSTREAM_UNREACHABLE', `the provider could not be reached: ${String(rootCause(err))}`, { cause: err });
  }
  if (!(err instanceof client.ClientError)) throw err;
  const { message, claim } = detailOf(err);
  switch (err.code) {
    case 'OAUTH_TIMEOUT':
    case 'OAUTH_ABORT':
      return new LoginRefusal('OIDC_UPSTREAM_UNREACHABLE', 'the provider did not answer in time', { cause: err });
    case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
      if (claim === 'iss') return new LoginRefusal('ID_TOKEN_ISSUER_MISMATCH', 'the ID token\'s iss is not the profile\'s issuer', { cause: err });
      if (claim === 'aud' || claim === 'azp') return new LoginRefusal('ID_TOKEN_AUDIENCE_MISMATCH', `the ID token's ${claim} does not name the client ID`, { cause: err });
      if (claim === 'nonce') return new LoginRefusal('ID_TOKEN_NONCE_MISMATCH', 'the ID token\'s nonce is not the one this sign-in sent', { cause: err });
      break;
    case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
      if (claim === 'auth_time') return new LoginRefusal('ID_TOKEN_AUTH_TIME_TOO_OLD', 'the provider authenticated the user longer ago than the application\'s max_age', { cause: err });
      return new LoginRefusal('ID_TOKEN_EXPIRED', `the ID token's ${claim ?? 'validity'} is out of range (${message})`, { cause: err });
    case 'OAUTH_KEY_SELECTION_FAILED':
      return new LoginRefusal('ID_TOKEN_SIGNATURE_INVALID', 'no key of the provider\'s JWKS (fetched again) matches the ID token\'s kid and algorithm', { cause: err });
    case 'OAUTH_INVALID_RESPONSE':
      if (message === 'JWT signature verification failed') return new LoginRefusal('ID_TOKEN_SIGNATURE_INVALID', 'the ID token\'s signature does not verify with the provider\'s key', { cause: err });
      if (message.includes('"alg" header parameter')) return new LoginRefusal('ID_TOKEN_ALGORITHM_NOT_ALLOWED', 'the ID token is signed with an algorithm outside spec.oidc.idTokenSigningAlgorithms', { cause: err });
      if (message.includes('"iss" (issuer)')) return new LoginRefusal('ID_TOKEN_ISSUER_MISMATCH', `the callback's iss parameter is not the profile's issuer (${message})`, { cause: err });
      break;
    case 'OAUTH_RESPONSE_IS_NOT_CONFORM':
      return new LoginRefusal('OIDC_TOKEN_EXCHANGE_FAILED', `the token endpoint answered with an unexpected HTTP status (${message})`, { cause: err });
  }
  const root = rootCause(err);
  if (err.code === undefined && root instanceof Error) return new LoginRefusal('OIDC_UPSTREAM_UNREACHABLE', `the request to the provider failed: ${root.message}`, { cause: err });
  return new LoginRefusal('OIDC_TOKEN_RESPONSE_INVALID', `the provider's token response was not accepted: ${message}`, { cause: err });
}
