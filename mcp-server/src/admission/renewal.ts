import type { AuthInfo } from '@modelcontextprotocol/server';
import { isServerError, ServerError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { RateLimiter } from '../mcp/rate-limit.ts';

/** Why a renewal was refused, as the `error` of the -32040 data (RFC 6750 §3.1 names). */
export type RenewalError = 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

/** A refused renewal: the -32040 `data`. The connection keeps its old token. */
export interface RenewalRefusal {
  readonly error: RenewalError;
  readonly error_description: string;
}

/** The outcome of {@link Renewer.renew}. */
export type RenewalOutcome =
  | { readonly ok: true; readonly authInfo: AuthInfo }
  | { readonly ok: false; readonly refusal: RenewalRefusal };

/** Verifies a token presented on an open connection for that connection. */
export interface Renewer {
  /** `token`: the `params.token` of `auth/renew`, as received (anything). `current`: the connection's token. */
  renew(token: unknown, current: AuthInfo): Promise<RenewalOutcome>;
}

/** Options of {@link createRenewer}. */
export interface RenewerOptions {
  /** The admission's own verification (Admission.verifyToken): same checks, same time bound. */
  verifyToken(token: string): Promise<AuthInfo>;
  /** The audit logger of the connection's principal (azp, sub), from its current token. */
  loggerOf(current: AuthInfo): Logger;
  /**
   * The per-client limiter tool calls use: each renewal takes a token from the same bucket, so a
   * client cannot spend the server's CPU on signature checks faster than on tool calls. Default none.
   */
  rateLimiter?: RateLimiter;
  /** Told each outcome: `ok`, or the refusal's coded reason (metrics). Default none. */
  onOutcome?(result: string): void;
}

/** RFC 6750 b64token, the form a bearer token has in an Authorization header. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function refused(error: RenewalError, description: string): RenewalOutcome {
  return { ok: false, refusal: { error, error_description: description } };
}

/** Maps a verification failure to the refusal the peer sees (never the token, never a stack). */
function refusalOf(err: unknown): RenewalOutcome {
  if (!isServerError(err)) return refused('invalid_token', 'the token could not be verified');
  switch (err.code) {
    case 'insufficient_scope':
      return refused('insufficient_scope', err.message);
    case 'keys_unavailable':
    case 'introspection_unavailable':
      return refused('temporarily_unavailable', err.message);
    default:
      return refused('invalid_token', err.message);
  }
}

/**
 * In-band renewal of a WebSocket connection's token (one renewer serves every connection): the new token passes exactly the checks
 * of admission (signature, `iss`, `aud`, `exp`, `typ`, OAUTH_REQUIRED_SCOPES, length, within
 * HANDSHAKE_TIMEOUT_MS) and must name the same client (`azp`) and subject (`sub`) as the token
 * that opened the connection, so a connection can never change hands. Renewals count against the
 * client's tool-call rate limit (over it: `temporarily_unavailable`). Every outcome is audited
 * (`auth.renewed`, or `auth.refused` with the reason); the token itself is never logged.
 */
export function createRenewer(options: RenewerOptions): Renewer {
  return {
    async renew(token, current) {
      const logger = options.loggerOf(current);
      let outcome: RenewalOutcome;
      let reason: string;
      const decision = options.rateLimiter?.take(current.clientId);
      if (decision !== undefined && !decision.allowed) {
        outcome = refused('temporarily_unavailable', `too many requests; retry in ${decision.retryAfterMs} ms`);
        reason = 'rate_limited';
      } else if (typeof token !== 'string' || !B64TOKEN.test(token)) {
        outcome = refused('invalid_token', 'params.token must be an access token (RFC 6750 b64token)');
        reason = 'token_malformed';
      } else {
        try {
          const next = await options.verifyToken(token);
          if (next.clientId !== current.clientId || next.extra?.sub !== current.extra?.sub) {
            throw new ServerError('token_invalid', 'the token was issued to another client or subject');
          }
          logger.info({
            event: 'auth.renewed',
            transport: 'websocket',
            scopes: next.scopes,
            expiresAt: next.expiresAt,
            previousExpiresAt: current.expiresAt,
          });
          options.onOutcome?.('ok');
          return { ok: true, authInfo: next };
        } catch (err) {
          outcome = refusalOf(err);
          reason = isServerError(err) ? err.code : 'token_invalid';
        }
      }
      logger.warn({
        event: 'auth.refused',
        transport: 'websocket',
        reason,
        renewal: true,
        ...(outcome.ok ? {} : { detail: outcome.refusal.error_description }),
      });
      options.onOutcome?.(reason);
      return outcome;
    },
  };
}
