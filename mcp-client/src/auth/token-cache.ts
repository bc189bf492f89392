/** A cached access token and when to stop reusing it. */
export interface CachedToken {
  readonly token: string;
  /** ms since the epoch after which the token is renewed rather than reused. */
  readonly renewAt: number;
}

/** The three things a token is bound to: who issued it, for which resource, with which scopes. */
export interface TokenKey {
  readonly issuer: string;
  /** RFC 8707 `resource` the token was requested for. */
  readonly resource: string;
  /** Space-separated scopes requested ('' for none); order does not matter. */
  readonly scope: string;
}

/** Entries kept before the least recently stored is dropped. */
const DEFAULT_MAX_ENTRIES = 64;

/**
 * Access tokens keyed by issuer + resource + scope, so a token obtained for one server (or one
 * authorization server, or one set of scopes) is never presented to another. Bounded: beyond
 * `maxEntries` the oldest entry is dropped. Share one cache between token sources of one process.
 */
export class TokenCache {
  readonly #entries = new Map<string, CachedToken>();
  readonly #max: number;

  /** @param maxEntries most tokens kept; default 64. */
  constructor(maxEntries = DEFAULT_MAX_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('TokenCache needs maxEntries >= 1');
    this.#max = maxEntries;
  }

  /** Number of tokens held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The token for `key` while `now` is before its renew time; undefined otherwise. */
  get(key: TokenKey, now: number): string | undefined {
    const entry = this.#entries.get(keyString(key));
    return entry !== undefined && now < entry.renewAt ? entry.token : undefined;
  }

  /** Drops the token for `key` if it is `token` (a revoked token must not be handed out again). */
  delete(key: TokenKey, token: string): void {
    const k = keyString(key);
    if (this.#entries.get(k)?.token === token) this.#entries.delete(k);
  }

  /** Stores (or replaces) the token for `key`. */
  set(key: TokenKey, token: CachedToken): void {
    const k = keyString(key);
    this.#entries.delete(k);
    this.#entries.set(k, token);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
  }
}

function keyString(key: TokenKey): string {
  const scope = key.scope.split(/\s+/).filter(Boolean).sort().join(' ');
  return JSON.stringify([key.issuer, key.resource, scope]);
}
