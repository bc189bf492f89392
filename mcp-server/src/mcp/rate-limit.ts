/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Tokens added per second (sustained calls per second). */
  ratePerSecond: number;
  /** Bucket size (calls allowed in a burst). */
  burst: number;
  /** Clock in ms. Default performance.now. */
  now?: () => number;
}

/** The answer of {@link RateLimiter.take}: allowed, or how long to wait before retrying. */
export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/** Per-key token buckets (key: the client id `azp`), shared by every connection and transport. */
export interface RateLimiter {
  /** Takes one token for `key`. */
  take(key: string): RateDecision;
}

/** Buckets idle this long are full again and dropped, so memory follows active clients. */
const IDLE_SWEEP = 10_000;

/** Creates a token-bucket limiter: `burst` calls at once, refilled at `ratePerSecond`. */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) {
    throw new TypeError('ratePerSecond must be > 0 and burst >= 1');
  }
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string, { tokens: number; at: number }>();
  const fullAfterMs = (options.burst / options.ratePerSecond) * 1000;
  let calls = 0;
  return {
    take(key) {
      const t = now();
      if (++calls % IDLE_SWEEP === 0) {
        for (const [k, b] of buckets) if (t - b.at > fullAfterMs) buckets.delete(k);
      }
      const b = buckets.get(key) ?? { tokens: options.burst, at: t };
      b.tokens = Math.min(options.burst, b.tokens + ((t - b.at) / 1000) * options.ratePerSecond);
      b.at = t;
      buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterMs: Math.ceil(((1 - b.tokens) / options.ratePerSecond) * 1000) };
    },
  };
}
