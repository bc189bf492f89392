/** Latency and repetition statistics for the benchmark. Pure: no I/O. */

/** Summary of one measured segment (one repetition of one row). */
export interface Sample {
  /** Completed requests (responses received) in the measured window. */
  readonly count: number;
  /** Length of the measured window, in ms. */
  readonly ms: number;
  /** Requests per second (`count / ms * 1000`). */
  readonly perSecond: number;
  /** Median latency, in ms. */
  readonly p50: number;
  /** 99th percentile latency, in ms. */
  readonly p99: number;
  /** Response bytes received in the window (wire payload, not framing). */
  readonly bytes: number;
}

/** Median and spread of one figure over the repetitions of a row. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/**
 * The `q` quantile (0..1) of `values` by nearest rank; sorts a copy. NaN for an empty input.
 * @throws RangeError when `q` is outside 0..1.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (q < 0 || q > 1) throw new RangeError(`quantile ${q} outside 0..1`);
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Builds a {@link Sample} from latencies in ms (only the first `count` entries are read). */
export function summarize(latencies: Float64Array, count: number, ms: number, bytes: number): Sample {
  const used = latencies.subarray(0, count).slice().sort();
  const at = (q: number) =>
    count === 0 ? Number.NaN : used[Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1))]!;
  return { count, ms, perSecond: ms > 0 ? (count / ms) * 1000 : 0, p50: at(0.5), p99: at(0.99), bytes };
}

/** Median (upper median for an even count), min and max of `values`. NaN fields for an empty input. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)! };
}

/** Spreads of every figure of a row over its repetitions. */
export interface RowStats {
  readonly perSecond: Spread;
  readonly p50: Spread;
  readonly p99: Spread;
  /** Response megabytes (2^20) per second. */
  readonly mbPerSecond: Spread;
}

/** Combines the repetitions of one row. */
export function combine(samples: readonly Sample[]): RowStats {
  return {
    perSecond: spread(samples.map((s) => s.perSecond)),
    p50: spread(samples.map((s) => s.p50)),
    p99: spread(samples.map((s) => s.p99)),
    mbPerSecond: spread(samples.map((s) => (s.ms > 0 ? s.bytes / 2 ** 20 / (s.ms / 1000) : 0))),
  };
}
