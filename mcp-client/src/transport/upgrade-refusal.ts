import { parseBearerChallenge } from 'mcp-ws-common';
import { ClientError, scopeAdvice } from '../errors.ts';

/** What the server answered instead of `101 Switching Protocols`. */
export interface RefusedUpgrade {
  /** The WebSocket URL that was dialled. */
  readonly url: string;
  readonly status: number;
  /** The raw `WWW-Authenticate` header(s), if any. */
  readonly wwwAuthenticate?: string | readonly string[] | undefined;
  /** The response body (at most a few KiB), if any. */
  readonly body?: string | undefined;
  /** The OAuth client id, for advice in messages. */
  readonly clientId?: string | undefined;
}

/**
 * Maps a refused upgrade to a {@link ClientError}: 401 -> `upgrade_refused`, 403 with
 * `insufficient_scope` -> `insufficient_scope`, other 403 -> `upgrade_refused`, anything else
 * (404, 503, ...) -> `connect_failed`; a 503's message follows the server's `error` (over capacity, keys
 * unavailable, shutting down). The challenge and status are kept on the error.
 */
export function errorFromRefusedUpgrade(r: RefusedUpgrade): ClientError {
  const challenge = parseBearerChallenge(r.wwwAuthenticate);
  const body = parseBody(r.body);
  const oauthError = challenge?.error ?? body.error;
  const description = challenge?.error_description ?? body.error_description;
  const scope = challenge?.scope;
  const details = {
    status: r.status,
    ...(challenge ? { challenge } : {}),
    ...(oauthError ? { oauthError } : {}),
    ...(scope ? { scope } : {}),
  };
  const said = [oauthError, description].filter(Boolean).join(': ');
  const saidPart = said ? ` (${said})` : '';

  if (r.status === 403 && oauthError === 'insufficient_scope') {
    const needed = scope ?? 'a scope';
    return new ClientError(
      'insufficient_scope',
      `the server needs scope ${needed}, which the token lacks: ${scopeAdvice(needed, r.clientId)}`,
      details,
    );
  }
  if (r.status === 401) {
    const advice =
      oauthError === 'invalid_token'
        ? 'the token was refused for the reason given; when it names the issuer or audience, check that OAUTH_ISSUER (or OAUTH_TOKEN_URL) points at the issuer the server trusts, with the host name the server expects'
        : 'send a token: set OAUTH_CLIENT_ID and a secret, or OAUTH_ACCESS_TOKEN';
    return new ClientError(
      'upgrade_refused',
      `the server at ${r.url} answered 401 Unauthorized${saidPart}: ${advice}`,
      details,
    );
  }
  if (r.status === 403) {
    return new ClientError(
      'upgrade_refused',
      `the server at ${r.url} answered 403 Forbidden${saidPart}: the token is valid but not allowed here`,
      details,
    );
  }
  if (r.status === 503) {
    return new ClientError(
      'connect_failed',
      `the server at ${r.url} ${unavailable(oauthError)} (503${saidPart})`,
      details,
    );
  }
  const hint = r.status === 404 ? ': check the path in SERVER_URL (e.g. /mcp)' : '';
  return new ClientError(
    'connect_failed',
    `the server at ${r.url} answered HTTP ${r.status}${saidPart} instead of a WebSocket upgrade${hint}`,
    details,
  );
}

/** What a 503 means, from the server's `error` field: only `over_capacity` is a capacity problem. */
function unavailable(oauthError: string | undefined): string {
  switch (oauthError) {
    case 'over_capacity':
      return 'is over capacity; try again later';
    case 'temporarily_unavailable':
      return 'cannot verify tokens right now (its signing keys are unavailable); try again later';
    case 'shutting_down':
      return 'is shutting down; try again once it is back';
    default:
      return 'is unavailable; try again later';
  }
}

function parseBody(body: string | undefined): { error?: string; error_description?: string } {
  if (!body) return {};
  try {
    const v = JSON.parse(body) as { error?: unknown; error_description?: unknown };
    return {
      ...(typeof v.error === 'string' ? { error: v.error } : {}),
      ...(typeof v.error_description === 'string' ? { error_description: v.error_description } : {}),
    };
  } catch {
    return {};
  }
}
