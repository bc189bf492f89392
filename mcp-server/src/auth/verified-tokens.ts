import type { AuthInfo } from '@modelcontextprotocol/server';

/** Tokens remembered at most, by default: with MAX_TOKEN_BYTES (8 KiB) at most 8 MiB of token text. */
export const DEFAULT_MAX_VERIFIED_TOKENS = 1024;

interface Entry {
  readonly authInfo: AuthInfo;
  /** The key set (its generation) that verified the token. */
  readonly keySet: number;
  /** `exp` in ms: the entry is not used from then on. */
  readonly expiresAtMs: number;
}

/**
 * The verdicts of tokens already verified, so a Streamable HTTP client presenting the same token
 * on every request pays for one signature check, not one per request (an RS256 check costs
 * ~0.1 ms of CPU, the largest single cost of a small request). A verdict is kept only while it
 * would be the same if checked again:
 *
 * - until the token's `exp` (its other claims, signature and header never change);
 * - while the key set that verified it is still the one in use (`keySet`, a generation that
 *   changes with every successful JWKS fetch) and fresh (within JWKS_CACHE_MAX_AGE_MS): a removed
 *   key stops verifying at the next refetch exactly as without this cache, and a stale set (an
 *   outage) sends every token through the full check, which applies JWKS_MAX_STALENESS_MS.
 *
 * Only tokens that verified are stored, keyed by their exact text; revocation, required scopes
 * and `exp` against the clock are checked by the callers on every request, cached or not. At
 * most `maxEntries` tokens are kept (the oldest is forgotten first).
 */
export class VerifiedTokens {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;

  constructor(maxEntries = DEFAULT_MAX_VERIFIED_TOKENS) {
    this.#maxEntries = maxEntries;
  }

  /** Tokens remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The verdict of `token` if it still holds for the key set `keySet` at `now` (ms). */
  get(token: string, keySet: number, now = Date.now()): AuthInfo | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.keySet !== keySet || now >= entry.expiresAtMs) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.authInfo;
  }

  /** Remembers that `authInfo.token` verified with the key set `keySet` (taken before verifying). */
  set(authInfo: AuthInfo, keySet: number): void {
    if (authInfo.expiresAt === undefined) return;
    this.#entries.delete(authInfo.token);
    this.#entries.set(authInfo.token, { authInfo, keySet, expiresAtMs: authInfo.expiresAt * 1000 });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}
