import type { AuthInfo } from '@modelcontextprotocol/server';
import { ServerError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** Why a holder must stop: the token turned inactive, or its verdict is older than the staleness bound. */
export type WithdrawnReason = 'revoked' | 'unverifiable';

/** A live user of a token (a WebSocket connection): its current token, and how to stop it. */
export interface TokenHolder {
  /** The token the holder uses now (after in-band renewals, the latest one). */
  current(): AuthInfo;
  /** Stops the holder; called at most once per tick. */
  withdraw(reason: WithdrawnReason): void;
}

/** Options of {@link RevocationWatch}. */
export interface RevocationWatchOptions {
  /** Asks the authorization server whether a token is active. @throws on failure (any error) */
  introspect(token: string): Promise<{ active: boolean }>;
  /**
   * The introspecting client's id: Keycloak (26.6.2 on) answers `active: false` for a token whose
   * `aud` does not name the client asking, so only tokens naming it are tracked; the others (a
   * compatibility audience of OAUTH_AUDIENCE) are not checked. Undefined: every token is tracked.
   */
  readonly audience?: string;
  /** Each tracked token is checked again this often, in ms (REVOCATION_CHECK_INTERVAL_MS). */
  readonly intervalMs: number;
  /** A verdict older than this (introspection failing) no longer counts: fail closed, in ms. */
  readonly maxStalenessMs: number;
  /** Most tokens tracked; beyond, the one tracked longest ago (held tokens are refreshed each round) is forgotten. */
  readonly maxTokens: number;
  /** Introspection requests in flight at once. Default 8. */
  readonly concurrency?: number;
  readonly logger: Logger;
  /** Clock (tests). Default `Date.now`. */
  readonly now?: () => number;
}

interface Entry {
  readonly token: string;
  /** `exp` in ms (Infinity when the token has none). */
  readonly expiresAt: number;
  readonly clientId: string;
  readonly sub: unknown;
  /** When the authorization server last said active (or, for a new entry, when it last answered at all). */
  confirmedAt: number;
  inactive: boolean;
}

/** Default introspection requests in flight at once. */
export const DEFAULT_INTROSPECTION_CONCURRENCY = 8;

/**
 * The set of tokens the server has accepted and that have not expired, each checked again at the
 * authorization server every `intervalMs`, off the request path: one introspection per distinct
 * token per interval however many connections share it, at most `concurrency` at once (when a
 * round takes longer than the interval, the next round starts late rather than overlapping).
 *
 * The request path only reads the verdict ({@link RevocationWatch.screen}, a Map lookup): a token
 * known inactive is refused (`token_revoked`); a token whose last good verdict is older than
 * `maxStalenessMs` because introspection keeps failing is refused with `introspection_unavailable`
 * (fail closed). A token seen for the first time is admitted on the local checks (signature, exp,
 * aud) and checked in the next round, so it too is withdrawn within one interval.
 *
 * Holders (WebSocket connections) are asked for their current token at each round, so a renewed
 * connection is judged by its new token; holders whose token turned inactive or unverifiable are
 * withdrawn once the round ends.
 */
export class RevocationWatch {
  readonly #options: RevocationWatchOptions;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #holders = new Set<TokenHolder>();
  /** When introspection last answered (any token); a new token inherits it as its confirmation. */
  #healthyAt: number;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #rounds = 0;

  constructor(options: RevocationWatchOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#healthyAt = this.#now();
  }

  /** Tokens tracked now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Rounds completed (tests). */
  get rounds(): number {
    return this.#rounds;
  }

  /**
   * On the request path, after the local checks passed: refuses a token known inactive or whose
   * verdict is too old, otherwise tracks it. Never waits.
   * @throws ServerError `token_revoked`, `introspection_unavailable`
   */
  screen(authInfo: AuthInfo): void {
    if (!this.#introspectable(authInfo)) return;
    const now = this.#now();
    const entry = this.#entries.get(authInfo.token) ?? this.#track(authInfo, now);
    if (entry.inactive) throw new ServerError('token_revoked', 'the token has been revoked');
    if (now - entry.confirmedAt > this.#options.maxStalenessMs) {
      throw new ServerError('introspection_unavailable', 'the token cannot be checked for revocation right now');
    }
  }

  #introspectable(authInfo: AuthInfo): boolean {
    const { audience } = this.#options;
    if (audience === undefined) return true;
    const aud = authInfo.extra?.aud;
    return aud === audience || (Array.isArray(aud) && aud.includes(audience));
  }

  /** Registers a live holder until the returned function is called. */
  hold(holder: TokenHolder): () => void {
    this.#holders.add(holder);
    return () => {
      this.#holders.delete(holder);
    };
  }

  /** Starts the rounds. */
  start(): void {
    this.#timer ??= setInterval(() => {
      if (this.#round !== undefined) {
        this.#options.logger.warn({ event: 'revocation_check_overrun', tokens: this.#entries.size });
        return;
      }
      void this.check();
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  /** Stops the rounds (a round in progress finishes). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Runs one round now (joining one in progress): introspect every tracked token, withdraw holders. */
  check(): Promise<void> {
    this.#round ??= this.#runRound().finally(() => {
      this.#round = undefined;
      this.#rounds += 1;
    });
    return this.#round;
  }

  #track(authInfo: AuthInfo, now: number): Entry {
    const entry: Entry = {
      token: authInfo.token,
      expiresAt: authInfo.expiresAt === undefined ? Number.POSITIVE_INFINITY : authInfo.expiresAt * 1000,
      clientId: authInfo.clientId,
      sub: authInfo.extra?.sub,
      confirmedAt: Math.min(now, this.#healthyAt),
      inactive: false,
    };
    this.#entries.set(entry.token, entry);
    if (this.#entries.size > this.#options.maxTokens) this.#evict();
    return entry;
  }

  // Forgets the token tracked longest ago (Map order is insertion order; each round moves held
  // tokens to the end), in O(1) whatever the flood. Forgetting is safe: a forgotten token seen
  // again, or still held at the next round, is tracked anew and checked in that round.
  #evict(): void {
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#entries.delete(oldest.value);
  }

  // Every holder's current token is tracked, most recently at the end of the Map.
  #refreshHeld(now: number): void {
    for (const holder of this.#holders) {
      const authInfo = holder.current();
      if (!this.#introspectable(authInfo)) continue;
      const entry = this.#entries.get(authInfo.token);
      if (entry === undefined) {
        this.#track(authInfo, now);
      } else {
        this.#entries.delete(authInfo.token);
        this.#entries.set(authInfo.token, entry);
      }
    }
  }

  async #runRound(): Promise<void> {
    const started = this.#now();
    for (const [token, entry] of this.#entries) if (entry.expiresAt <= started) this.#entries.delete(token);
    this.#refreshHeld(started);
    const pending = [...this.#entries.values()].filter((e) => !e.inactive);
    const workers = Math.min(this.#options.concurrency ?? DEFAULT_INTROSPECTION_CONCURRENCY, pending.length);
    let failures = 0;
    let lastError = '';
    const work = async (): Promise<void> => {
      for (let entry = pending.pop(); entry !== undefined; entry = pending.pop()) {
        const asked = this.#now();
        try {
          const { active } = await this.#options.introspect(entry.token);
          this.#healthyAt = Math.max(this.#healthyAt, asked);
          if (active) entry.confirmedAt = Math.max(entry.confirmedAt, asked);
          else this.#markInactive(entry);
        } catch (err) {
          failures += 1;
          lastError = err instanceof Error ? err.message : String(err);
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, work));
    this.#options.logger.debug({
      event: 'revocation_checked',
      tokens: this.#entries.size,
      failures,
      ms: this.#now() - started,
    });
    if (failures > 0) {
      this.#options.logger.warn({
        event: 'introspection_failed',
        failures,
        error: lastError,
        ms: this.#now() - started,
      });
    }
    this.#withdrawHolders();
  }

  #markInactive(entry: Entry): void {
    if (entry.inactive) return;
    entry.inactive = true;
    this.#options.logger.warn({ event: 'auth.revoked', azp: entry.clientId, sub: entry.sub, reason: 'inactive' });
  }

  #withdrawHolders(): void {
    const now = this.#now();
    for (const holder of [...this.#holders]) {
      const entry = this.#entries.get(holder.current().token);
      // A holder whose token is untracked (renewed mid-round, or forgotten) is judged next round.
      if (entry === undefined) continue;
      if (entry.inactive) holder.withdraw('revoked');
      else if (now - entry.confirmedAt > this.#options.maxStalenessMs) holder.withdraw('unverifiable');
    }
  }
}
