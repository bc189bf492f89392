import { type Client, ProtocolError, type StandardSchemaV1 } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import type { TokenSource } from './auth/token-source.ts';

/** The JSON-RPC method that presents a fresh token on an open WebSocket (docs/transport.md). */
export const RENEW_METHOD = 'auth/renew';
/** JSON-RPC error code of a refused renewal; the connection keeps its old token. */
export const RENEW_REFUSED = -32040;
const METHOD_NOT_FOUND = -32601;
/** Renew no later than this long before `exp`, in ms (or at 80% of the lifetime, if earlier). */
export const RENEW_LEAD_MS = 30_000;

/** What {@link TokenRenewal} reports. */
export type RenewalEvent =
  /** The server accepted the fresh token; the connection now lasts until `expiresAt` (epoch s). */
  | { readonly type: 'renewed'; readonly expiresAt: number }
  /**
   * Renewal stopped for this connection; the server closes it at the old `exp` (4401) and the
   * client reconnects with a fresh token, as without renewal. `unsupported`: the server answered
   * -32601; `refused`: -32040 twice (`error` is the server's OAuth error code); `failed`: no fresh
   * token, no answer, or a token that would not outlive the current one.
   */
  | {
      readonly type: 'renewal_stopped';
      readonly reason: 'unsupported' | 'refused' | 'failed';
      readonly message: string;
      readonly error?: string | undefined;
    };

/** Options of {@link TokenRenewal}. */
export interface TokenRenewalOptions {
  /** The connected SDK client of one WebSocket connection. */
  readonly client: Client;
  readonly tokenSource: TokenSource;
  /** The token the connection was opened with. */
  readonly token: string;
  /** Timeout of each `auth/renew` request, in ms. */
  readonly requestTimeoutMs: number;
  readonly onEvent?: ((event: RenewalEvent) => void) | undefined;
  /** Clock in epoch ms (tests). Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

interface RenewResult {
  readonly expiresAt: number;
  readonly scopes: readonly string[];
}

const RENEW_RESULT: StandardSchemaV1<unknown, RenewResult> = {
  '~standard': {
    version: 1,
    vendor: 'mcp-client',
    validate(value) {
      const v = value as Partial<RenewResult> | null;
      const ok =
        typeof v === 'object' &&
        v !== null &&
        Number.isFinite(v.expiresAt) &&
        Array.isArray(v.scopes) &&
        v.scopes.every((s) => typeof s === 'string');
      if (ok) return { value: { expiresAt: v.expiresAt as number, scopes: v.scopes as string[] } };
      return { issues: [{ message: 'expected { expiresAt: number, scopes: string[] }' }] };
    },
  },
};

/**
 * When to renew a token that expires at `expSeconds` (issued at `iatSeconds`, if known), in ms
 * from `nowMs`: when 80% of its lifetime has passed or 30 s before `exp`, whichever is earlier,
 * but not before half of the remaining time (so a token shorter-lived than 30 s is not renewed
 * in a loop). Undefined when it has already expired.
 */
export function renewalDelayMs(expSeconds: number, iatSeconds: number | undefined, nowMs: number): number | undefined {
  const remaining = expSeconds * 1000 - nowMs;
  if (remaining <= 0) return undefined;
  const lifetime = iatSeconds !== undefined && iatSeconds < expSeconds ? (expSeconds - iatSeconds) * 1000 : remaining;
  const lead = Math.max(lifetime * 0.2, RENEW_LEAD_MS);
  return Math.max(remaining - lead, remaining / 2);
}

/** `exp` and `iat` of a JWT, or undefined for a token that is not a JWT or has no `exp`. */
function lifetimeOf(token: string): { exp: number; iat: number | undefined } | undefined {
  try {
    const { exp, iat } = decodeJwt(token);
    return typeof exp === 'number' ? { exp, iat: typeof iat === 'number' ? iat : undefined } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * In-band token renewal on one WebSocket connection: ahead of the token's `exp` (see
 * {@link renewalDelayMs}) it fetches a fresh token (forcing past the cache, whose token is the one
 * about to expire) and presents it with `auth/renew`. Calls in flight are not touched: the
 * request shares the socket with them. On -32601 (a server without renewal) it stops and the
 * connection ends at `exp` as before; on -32040 it tries once more with another fresh token, then
 * stops. The token is never logged nor put in an event.
 */
export class TokenRenewal {
  readonly #o: TokenRenewalOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** `exp` of the connection's current token, in epoch seconds. */
  #exp: number;

  private constructor(o: TokenRenewalOptions, exp: number) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#exp = exp;
  }

  /**
   * Schedules renewal of the connection's token; undefined when there is nothing to renew (the
   * token source cannot give another token, or the token says no `exp`).
   */
  static start(o: TokenRenewalOptions): TokenRenewal | undefined {
    const life = lifetimeOf(o.token);
    if (!o.tokenSource.refreshable || life === undefined) return undefined;
    const renewal = new TokenRenewal(o, life.exp);
    renewal.#schedule(life.iat);
    return renewal;
  }

  /** Cancels any scheduled renewal. Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(iat: number | undefined): void {
    const delay = renewalDelayMs(this.#exp, iat, this.#now());
    if (delay === undefined || this.#stopped) return;
    this.#timer = setTimeout(() => void this.#renew(), delay);
    this.#timer.unref(); // a pending renewal must not keep the process alive
  }

  async #renew(): Promise<void> {
    for (let attempt = 1; !this.#stopped; attempt++) {
      let token: string;
      try {
        token = await this.#o.tokenSource.getToken({ forceRefresh: true });
      } catch (err) {
        return this.#give('failed', `no fresh token: ${(err as Error).message}`);
      }
      const life = lifetimeOf(token);
      if (life === undefined || life.exp <= this.#exp) {
        return this.#give('failed', 'the fresh token does not outlive the current one');
      }
      try {
        const result = await this.#o.client.request({ method: RENEW_METHOD, params: { token } }, RENEW_RESULT, {
          timeout: this.#o.requestTimeoutMs,
        });
        if (this.#stopped) return;
        // The next renewal follows the token's own exp, not the server's answer: a server saying
        // "expires in a second" must not make the client hammer the token endpoint.
        this.#exp = life.exp;
        this.#o.onEvent?.({ type: 'renewed', expiresAt: result.expiresAt });
        return this.#schedule(life.iat);
      } catch (err) {
        if (!(err instanceof ProtocolError)) return this.#give('failed', (err as Error).message);
        if (err.code === METHOD_NOT_FOUND) return this.#give('unsupported', 'the server does not offer auth/renew');
        if (err.code !== RENEW_REFUSED) return this.#give('failed', err.message);
        const error = (err.data as { error?: unknown } | undefined)?.error;
        if (attempt >= 2) {
          return this.#give('refused', err.message, typeof error === 'string' ? error : undefined);
        }
      }
    }
  }

  #give(reason: 'unsupported' | 'refused' | 'failed', message: string, error?: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#o.onEvent?.({ type: 'renewal_stopped', reason, message, ...(error ? { error } : {}) });
  }
}
