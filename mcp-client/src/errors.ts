import type { BearerChallenge } from 'mcp-ws-common';

/**
 * What went wrong, as a stable string a caller can `switch` on.
 * - `config`: a setting is missing, malformed or contradictory.
 * - `auth_refused`: the token endpoint refused the request (invalid_client, invalid_scope, ...).
 * - `token_endpoint`: the token endpoint or its metadata could not be reached or made no sense.
 * - `issuer_mismatch`: discovery metadata names another issuer than the one asked for.
 * - `untrusted`: the client refused to send a credential where the user did not configure it to go
 *   (an issuer the server chose, metadata for another resource or origin, plain http off loopback).
 * - `upgrade_refused`: the server answered the WebSocket upgrade with 401/403 (token refused).
 * - `insufficient_scope`: the token lacks a scope the server needs (403 or a tool result).
 * - `connect_failed`: the server could not be reached, or closed the connection for good.
 * - `reconnect_exhausted`: the connection dropped and every reconnect attempt failed.
 * - `outcome_unknown`: the connection dropped while a call to a tool that is not marked read-only
 *   or idempotent was in flight; the call may or may not have run, and it was not re-sent.
 * - `resend_exhausted`: a read-only/idempotent call was sent the allowed number of times and each
 *   time the connection dropped before its answer (it may have run, harmlessly).
 * - `timeout`: no answer within the request timeout; the request may or may not have run.
 * - `tool_error`: a tool returned an error result.
 * - `protocol`: the server broke MCP / JSON-RPC rules.
 */
export type ClientErrorCode =
  | 'config'
  | 'auth_refused'
  | 'token_endpoint'
  | 'issuer_mismatch'
  | 'untrusted'
  | 'upgrade_refused'
  | 'insufficient_scope'
  | 'connect_failed'
  | 'reconnect_exhausted'
  | 'outcome_unknown'
  | 'resend_exhausted'
  | 'timeout'
  | 'tool_error'
  | 'protocol';

/** Details attached to a {@link ClientError}; every field is optional. */
export interface ClientErrorDetails {
  /** HTTP status of a refused upgrade or token request. */
  readonly status?: number;
  /** The parsed `WWW-Authenticate: Bearer` challenge of a refused upgrade. */
  readonly challenge?: BearerChallenge;
  /** OAuth `error` value (e.g. `invalid_client`, `invalid_token`, `insufficient_scope`). */
  readonly oauthError?: string;
  /** Space-separated scopes the server asked for, when known. */
  readonly scope?: string;
  /** WebSocket close code that ended the connection, when one did. */
  readonly closeCode?: number;
  /** True when the request certainly never reached the server (so sending it again is safe). */
  readonly unsent?: boolean;
  /** How many times a call was sent, on `outcome_unknown` / `resend_exhausted`. */
  readonly attempts?: number;
  /** The underlying error. */
  readonly cause?: unknown;
}

/**
 * The one error type of the client library. Messages say what happened and what to do next;
 * they never contain tokens or secrets. Exit codes are assigned by the CLI, not here.
 */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;
  readonly status: number | undefined;
  readonly challenge: BearerChallenge | undefined;
  readonly oauthError: string | undefined;
  readonly scope: string | undefined;
  readonly closeCode: number | undefined;
  readonly unsent: boolean;
  readonly attempts: number | undefined;

  constructor(code: ClientErrorCode, message: string, details: ClientErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.challenge = details.challenge;
    this.oauthError = details.oauthError;
    this.scope = details.scope;
    this.closeCode = details.closeCode;
    this.unsent = details.unsent === true;
    this.attempts = details.attempts;
  }
}

/** True when `err` is a {@link ClientError}, optionally with one of the given codes. */
export function isClientError(err: unknown, ...codes: ClientErrorCode[]): err is ClientError {
  return err instanceof ClientError && (codes.length === 0 || codes.includes(err.code));
}

/** The advice for a missing scope, naming the Keycloak console path that fixes it. */
export function scopeAdvice(scope: string, clientId: string | undefined): string {
  const client = clientId ?? '<your client>';
  return (
    `add the client scope ${scope} to client ${client} in Keycloak ` +
    `(Clients > ${client} > Client scopes) and request it in OAUTH_SCOPE`
  );
}
