import { CloseCode, RECONNECTABLE_CLOSE_CODES } from 'mcp-ws-common';
import { isClientError } from './errors.ts';

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

/** True when the close means the token expired, so the next connect needs a fresh token. */
export function needsFreshToken(code: number | undefined): boolean {
  return code === CloseCode.TOKEN_EXPIRED;
}

/**
 * Whether a failed reconnect attempt is worth repeating: network failures and 503s are;
 * refused credentials, missing scopes and bad configuration are not.
 */
export function isRetryableConnectError(err: unknown): boolean {
  if (isClientError(err, 'connect_failed', 'token_endpoint')) return true;
  // A 401 during a reconnect usually means the token just expired: retry with a fresh one.
  return isClientError(err, 'upgrade_refused') && err.status === 401;
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
