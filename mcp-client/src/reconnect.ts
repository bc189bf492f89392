import { CloseCode, RECONNECTABLE_CLOSE_CODES } from 'mcp-ws-common';
import { ClientError, isClientError } from './errors.ts';

/** How a dropped connection is retried. */
export interface ReconnectOptions {
  /** Attempts after a drop before failing with `reconnect_exhausted`; 0 disables reconnecting. Default 6. */
  readonly maxAttempts?: number | undefined;
  /** Backoff ceiling of the first attempt, in ms; doubles per attempt. Default 200. */
  readonly baseDelayMs?: number | undefined;
  /** Largest backoff ceiling, in ms. Default 5000. */
  readonly maxDelayMs?: number | undefined;
  /** Random source in [0, 1) for jitter (tests). Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

/** {@link ReconnectOptions} with defaults applied. */
export type ReconnectPolicy = Required<ReconnectOptions>;

/** Applies the defaults; @throws TypeError on negative or non-integer values. */
export function reconnectPolicy(options: ReconnectOptions = {}): ReconnectPolicy {
  const p: ReconnectPolicy = {
    maxAttempts: options.maxAttempts ?? 6,
    baseDelayMs: options.baseDelayMs ?? 200,
    maxDelayMs: options.maxDelayMs ?? 5000,
    random: options.random ?? Math.random,
  };
  for (const k of ['maxAttempts', 'baseDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isInteger(p[k]) || p[k] < 0) throw new TypeError(`reconnect ${k} must be a whole number >= 0`);
  }
  return p;
}

/**
 * Delay before reconnect attempt `attempt` (1-based), in ms: "full jitter" exponential backoff,
 * uniform in [0, min(maxDelayMs, baseDelayMs * 2^(attempt-1))).
 */
export function backoffDelayMs(attempt: number, policy: ReconnectPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(policy.random() * ceiling);
}

/** True when a close with this code should be followed by a reconnect. */
export function isReconnectableClose(code: number | undefined): boolean {
  return code !== undefined && RECONNECTABLE_CLOSE_CODES.has(code);
}

/** True when the close means the token expired or was revoked, so the next connect needs a fresh token. */
export function needsFreshToken(code: number | undefined): boolean {
  return code === CloseCode.TOKEN_EXPIRED || code === CloseCode.TOKEN_REVOKED;
}

/** True when the server closed because the authorization server withdrew the token (4403). */
export function isRevocationClose(code: number | undefined): boolean {
  return code === CloseCode.TOKEN_REVOKED;
}

/**
 * Whether a failed reconnect attempt is worth repeating: network failures and 503s are;
 * refused credentials, missing scopes and bad configuration are not. After a revocation (4403)
 * a refused upgrade is not either: the fresh token was refused too, so access was withdrawn.
 */
export function isRetryableConnectError(err: unknown, afterRevocation = false): boolean {
  if (isClientError(err, 'connect_failed', 'token_endpoint')) return true;
  // A 401 during a reconnect usually means the token just expired: retry with a fresh one.
  return !afterRevocation && isClientError(err, 'upgrade_refused') && err.status === 401;
}

/**
 * The error a client stops with when the server closed for revocation (4403) and the new token
 * was refused (by Keycloak: client disabled, secret or scope withdrawn; or by the server): same
 * code (an authorization failure), with what happened first.
 */
export function accessWithdrawn(err: unknown): ClientError {
  const cause = isClientError(err) ? err : new ClientError('protocol', String(err), { cause: err });
  return new ClientError(
    cause.code,
    `access was withdrawn: the server closed the connection because the token was revoked (4403), and a new token did not restore it: ${cause.message}`,
    {
      ...(cause.status === undefined ? {} : { status: cause.status }),
      ...(cause.oauthError === undefined ? {} : { oauthError: cause.oauthError }),
      ...(cause.scope === undefined ? {} : { scope: cause.scope }),
      closeCode: CloseCode.TOKEN_REVOKED,
      cause,
    },
  );
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
