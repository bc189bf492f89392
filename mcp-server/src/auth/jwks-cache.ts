import { setTimeout as delay } from 'node:timers/promises';
import {
  createLocalJWKSet,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  errors as joseErrors,
} from 'jose';
import { ServerError } from '../errors.ts';

/** Why a JWKS fetch was made (logs and tests). */
export type JwksFetchReason = 'load' | 'max_age' | 'unknown_kid';

/** Outcome of one JWKS fetch, reported to {@link JwksCacheOptions.onFetch}. */
export interface JwksFetchEvent {
  readonly reason: JwksFetchReason;
  readonly ok: boolean;
  readonly ms: number;
  /** Number of signature keys (`use: "sig"`) in the set fetched (ok only). */
  readonly keys?: number;
  /** Why it failed (not ok only). */
  readonly error?: string;
  /** Age in ms of the keys still in use after a failed fetch (stale-if-error); undefined when none. */
  readonly staleAgeMs?: number | undefined;
}

/** Options of {@link JwksCache}. */
export interface JwksCacheOptions {
  readonly url: URL;
  /** Keys older than this are refetched before use, in ms. Default 600000. */
  readonly maxAgeMs?: number;
  /** Least time between two fetches (unknown `kid`, retry after a failure), in ms. Default 30000. */
  readonly cooldownMs?: number;
  /**
   * How long past `maxAgeMs` a key set that cannot be refetched stays in use, in ms; then every
   * verification fails with `keys_unavailable` (503) until a fetch succeeds. Default 300000.
   */
  readonly maxStalenessMs?: number;
  /** Timeout of one fetch, in ms. Default 5000. */
  readonly timeoutMs?: number;
  readonly onFetch?: (event: JwksFetchEvent) => void;
  /** Clock (tests). Default `Date.now`. */
  readonly now?: () => number;
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

/** Longest wait for the cooldown before an unknown `kid` is refused, in ms. */
const MAX_KID_WAIT_MS = 2000;

/**
 * A JWKS cache like jose's `createRemoteJWKSet` (keys older than `maxAgeMs` are refetched before
 * use; an unknown `kid` triggers a refetch, at most one per `cooldownMs`), with three differences:
 *
 * - stale-if-error, bounded: when a refetch fails (authorization server down, timeout, bad answer)
 *   the last good key set stays in use, so already-issued tokens keep verifying through an outage,
 *   but only until it is `maxAgeMs + maxStalenessMs` old: then verifications fail with
 *   `keys_unavailable` (503), so a key removed while the JWKS is unreachable does not verify
 *   without bound. A refetch that succeeds replaces the set, so removed keys stop verifying. A
 *   failed fetch is retried at most once per cooldown.
 * - an unknown `kid` within the cooldown waits for the next allowed fetch (shared by every waiting
 *   verification) instead of being refused, so a freshly rotated key is accepted with at most one
 *   fetch per cooldown, however many tokens arrive.
 * - the cooldown counts from the previous unknown-`kid` (or failed) fetch, not from the periodic
 *   max-age refresh, so a rotation right after a routine refresh is not delayed.
 */
export class JwksCache {
  readonly #url: URL;
  readonly #maxAgeMs: number;
  readonly #cooldownMs: number;
  readonly #maxStalenessMs: number;
  readonly #timeoutMs: number;
  readonly #onFetch: ((event: JwksFetchEvent) => void) | undefined;
  readonly #now: () => number;
  #local: LocalSet | undefined;
  #keyCount = 0;
  /** When the fetch that produced the current set started. */
  #fetchedAt = Number.NEGATIVE_INFINITY;
  /** When the latest fetch for an unknown `kid` started (the cooldown counts from it). */
  #kidFetchAt = Number.NEGATIVE_INFINITY;
  /** When the latest failed fetch started (a failed fetch is retried at most once per cooldown). */
  #failedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<boolean> | undefined;
  #scheduled: Promise<boolean> | undefined;
  #fetches = 0;
  #generation = 0;

  constructor(options: JwksCacheOptions) {
    this.#url = options.url;
    this.#maxAgeMs = options.maxAgeMs ?? 600_000;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#maxStalenessMs = options.maxStalenessMs ?? 300_000;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#onFetch = options.onFetch;
    this.#now = options.now ?? Date.now;
  }

  /** True once a fetch succeeded (keys are in use, possibly stale). */
  get loaded(): boolean {
    return this.#local !== undefined;
  }

  /** Fetches made so far, successful or not. */
  get fetchCount(): number {
    return this.#fetches;
  }

  /** Changes with every successful fetch: identifies the key set in use. */
  get generation(): number {
    return this.#generation;
  }

  /** True while the key set in use is younger than its max age (no refetch due). */
  get fresh(): boolean {
    return this.ageMs < this.#maxAgeMs;
  }

  /** Age in ms of the key set in use; Infinity before the first successful fetch. */
  get ageMs(): number {
    return this.#now() - this.#fetchedAt;
  }

  /** Fetches now (joining a fetch in progress). @throws Error when the fetch fails. */
  async reload(): Promise<void> {
    let error: unknown;
    const ok = await this.#refresh('load', (err) => {
      error = err;
    });
    if (!ok) throw error instanceof Error ? error : new Error(String(error));
  }

  /** The key resolver to pass to jose's `jwtVerify`. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): ReturnType<LocalSet> => {
    const startedAt = this.#now();
    if (this.#local === undefined) {
      if (!(await this.#refresh('load'))) {
        throw new ServerError('keys_unavailable', `signing keys are unavailable (${this.#url.href})`);
      }
    } else if (this.ageMs >= this.#maxAgeMs && (this.#inflight || startedAt - this.#failedAt >= this.#cooldownMs)) {
      await this.#refresh('max_age'); // on failure the stale set stays in use, within its bound
    }
    if (this.ageMs > this.#maxAgeMs + this.#maxStalenessMs) {
      throw new ServerError(
        'keys_unavailable',
        `signing keys could not be refreshed for ${Math.round((this.ageMs - this.#maxAgeMs) / 1000)} s past their max age`,
      );
    }
    for (;;) {
      try {
        return await (this.#local as LocalSet)(header, token);
      } catch (err) {
        if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
        // A set fetched after this verification began does not have the key: refuse.
        if (this.#fetchedAt >= startedAt) throw err;
        const refreshed = this.#refreshAfterCooldown();
        // Within the cooldown nothing can be fetched: a made-up kid is refused as jose's remote set
        // would (401), unless the latest fetch failed, in which case the key set is what is missing.
        if (refreshed === undefined && !this.#lastFetchFailed) throw err;
        if (refreshed === undefined || !(await refreshed)) {
          throw new ServerError(
            'keys_unavailable',
            'no cached key matches the token and the key set cannot be fetched',
          );
        }
      }
    }
  };

  /** True when the latest fetch failed (the set in use, if any, is stale-if-error). */
  get #lastFetchFailed(): boolean {
    return this.#failedAt > this.#fetchedAt;
  }

  /**
   * The next fetch allowed by the cooldown, shared by every caller; resolves true when it
   * succeeded. Undefined when that fetch is further away than {@link MAX_KID_WAIT_MS}.
   */
  #refreshAfterCooldown(): Promise<boolean> | undefined {
    if (this.#inflight) return this.#inflight;
    if (this.#scheduled) return this.#scheduled;
    const since = Math.max(this.#kidFetchAt, this.#failedAt);
    const wait = Math.max(0, since + this.#cooldownMs - this.#now());
    // Waiting holds the caller's connection slot; a token with a made-up kid must not hold it for
    // a whole cooldown, so beyond a short wait the caller refuses the token instead.
    if (wait > MAX_KID_WAIT_MS) return undefined;
    const scheduled = delay(wait, undefined, { ref: false }).then(() => {
      this.#scheduled = undefined;
      if (this.#inflight) return this.#inflight;
      this.#kidFetchAt = this.#now();
      return this.#refresh('unknown_kid');
    });
    this.#scheduled = scheduled;
    return scheduled;
  }

  /** One fetch at a time; resolves true when it succeeded. Never rejects. */
  #refresh(reason: JwksFetchReason, onError?: (err: unknown) => void): Promise<boolean> {
    if (this.#inflight) return this.#inflight;
    const started = this.#now();
    this.#fetches += 1;
    const run = this.#fetch().then(
      (jwks) => {
        // Signature keys only (Keycloak 26.7 also publishes an RSA-OAEP key with use "enc"); jose
        // then picks among them by kid. A key that does not declare use "sig" never verifies.
        const signing = { keys: jwks.keys.filter((key) => key.use === 'sig') };
        this.#local = createLocalJWKSet(signing);
        this.#keyCount = signing.keys.length;
        this.#fetchedAt = started;
        this.#generation += 1;
        this.#onFetch?.({ reason, ok: true, ms: this.#now() - started, keys: this.#keyCount });
        return true;
      },
      (err: unknown) => {
        this.#failedAt = started;
        onError?.(err);
        this.#onFetch?.({
          reason,
          ok: false,
          ms: this.#now() - started,
          error: err instanceof Error ? err.message : String(err),
          staleAgeMs: this.#local ? this.#now() - this.#fetchedAt : undefined,
        });
        return false;
      },
    );
    this.#inflight = run.finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<JSONWebKeySet> {
    let res: Response;
    try {
      res = await fetch(this.#url, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown } }).cause;
      const code = typeof cause?.code === 'string' ? cause.code : (err as Error).name;
      throw new Error(`fetching ${this.#url.href} failed (${code})`, { cause: err });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`fetching ${this.#url.href} answered HTTP ${res.status}`);
    }
    const body = (await res.json().catch(() => undefined)) as Partial<JSONWebKeySet> | undefined;
    if (!body || !Array.isArray(body.keys)) throw new Error(`${this.#url.href} did not answer a JSON Web Key Set`);
    return body as JSONWebKeySet;
  }
}
