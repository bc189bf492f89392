import { formatBearerChallenge } from 'mcp-ws-common';
import type { ServerError } from '../errors.ts';

/** An HTTP refusal of an upgrade or request: status, headers and a short JSON body. */
export interface HttpRefusal {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: { error: string; error_description: string };
}

/** What a challenge needs to point the client at: RFC 9728 metadata and the scopes to ask for. */
export interface ChallengeContext {
  /** URL of /.well-known/oauth-protected-resource... */
  resourceMetadataUrl: string;
  /** Scopes to advertise in `scope=` (space-separated); omitted when empty. */
  scope: string;
  /** Seconds a client refused because tokens cannot be checked yet is told to wait. Default 5. */
  retryAfterSeconds?: number;
}

/** Default `Retry-After` of a 503 answered while signing keys are unavailable, in seconds. */
export const DEFAULT_KEYS_RETRY_AFTER_SECONDS = 5;

// The body keeps the message as written; formatBearerChallenge reduces the header's copy to the
// characters RFC 6750 allows.
function refusal(
  status: number,
  error: string,
  description: string,
  challenge: string | undefined,
  extraHeaders: Record<string, string> = {},
): HttpRefusal {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (challenge !== undefined) headers['www-authenticate'] = challenge;
  return { status, headers: { ...headers, ...extraHeaders }, body: { error, error_description: description } };
}

/**
 * Maps an authorization error to its HTTP answer (RFC 6750 §3, MCP authorization); the one place
 * both transports get their refusals from:
 * no token -> 401 without `error`; token in the query string, several Authorization headers or a
 * malformed Bearer credential -> 400 invalid_request; bad/expired/revoked token -> 401 invalid_token;
 * missing scope -> 403 insufficient_scope; signing keys unavailable (not loaded yet, key set
 * unreachable or too stale, verification timed out) or revocation status unknown for too long
 * -> 503 with `Retry-After`; anything else -> 500.
 */
export function challengeFor(err: ServerError, ctx: ChallengeContext): HttpRefusal {
  const scope = ctx.scope.length > 0 ? ctx.scope : undefined;
  const base = { scope, resource_metadata: ctx.resourceMetadataUrl };
  switch (err.code) {
    case 'token_missing':
      return refusal(401, 'invalid_request', 'a bearer token is required', formatBearerChallenge(base));
    case 'token_in_query':
    case 'token_malformed':
      return refusal(
        400,
        'invalid_request',
        err.message,
        formatBearerChallenge({ error: 'invalid_request', error_description: err.message, ...base }),
      );
    case 'token_invalid':
    case 'token_expired':
    case 'token_revoked':
      return refusal(
        401,
        'invalid_token',
        err.message,
        formatBearerChallenge({ error: 'invalid_token', error_description: err.message, ...base }),
      );
    case 'insufficient_scope': {
      const needed = (err.scopes ?? []).join(' ') || scope;
      return refusal(
        403,
        'insufficient_scope',
        err.message,
        formatBearerChallenge({
          error: 'insufficient_scope',
          error_description: err.message,
          scope: needed,
          resource_metadata: ctx.resourceMetadataUrl,
        }),
      );
    }
    case 'keys_unavailable':
    case 'introspection_unavailable':
    case 'discovery_failed':
      return refusal(503, 'temporarily_unavailable', 'the server cannot verify tokens right now', undefined, {
        'retry-after': String(ctx.retryAfterSeconds ?? DEFAULT_KEYS_RETRY_AFTER_SECONDS),
      });
    default:
      return refusal(500, 'server_error', 'unexpected error', undefined);
  }
}
