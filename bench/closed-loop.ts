/**
 * A closed-loop request driver: keeps `inflight` requests outstanding, records the latency of
 * each completion inside the measured window, and stops by count or by time, whichever first.
 * Transport-agnostic: the caller sends, and reports completions by request id.
 */
import { type Sample, summarize } from './stats.ts';

/** Options of {@link createLoop}. */
export interface LoopOptions {
  /** Requests kept outstanding. */
  readonly inflight: number;
  /** Unrecorded run-in before the window, in ms. */
  readonly warmupMs: number;
  /** Length of the measured window, in ms. */
  readonly durationMs: number;
  /** Most completions recorded in the window (the window ends early when reached). */
  readonly maxRequests: number;
  /** Time allowed for the outstanding requests to drain after the window, in ms. Default 10000. */
  readonly drainMs?: number;
  /** Responses shorter than this many bytes count as errors (tool errors are short). Default 0. */
  readonly minBytes?: number;
}

/** What a loop reports: the window's {@link Sample} plus errors and late responses. */
export interface LoopResult extends Sample {
  /** Completions shorter than `minBytes` (not counted in `count`). */
  readonly errors: number;
  /** Requests still outstanding when the drain time ran out. */
  readonly lost: number;
}

/** A running loop. */
export interface Loop {
  /** Starts issuing; `send(id)` must send request `id` and later lead to `complete(id, bytes)`. */
  start(send: (id: number) => void): Promise<LoopResult>;
  /** Reports the response to request `id`, `bytes` long. Unknown ids are ignored. */
  complete(id: number, bytes: number): void;
  /** Ends the loop at once (the connection failed), reporting what was measured. */
  abort(reason: Error): void;
}

/** Creates a {@link Loop}. @throws RangeError for a non-positive `inflight` or `maxRequests`. */
export function createLoop(options: LoopOptions): Loop {
  if (options.inflight < 1 || options.maxRequests < 1) throw new RangeError('inflight and maxRequests must be >= 1');
  const latencies = new Float64Array(options.maxRequests);
  const sentAt = new Map<number, number>();
  const minBytes = options.minBytes ?? 0;
  let count = 0;
  let errors = 0;
  let bytes = 0;
  let nextId = 1;
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  let issuing = true;
  let send: (id: number) => void = () => {};
  let finish: (r: LoopResult) => void = () => {};
  let fail: (e: Error) => void = () => {};
  let drainTimer: NodeJS.Timeout | undefined;
  let windowTimer: NodeJS.Timeout | undefined;

  const result = (): LoopResult => {
    const ms = Math.min(windowEnd, performance.now()) - windowStart;
    return { ...summarize(latencies, count, Math.max(0, ms), bytes), errors, lost: sentAt.size };
  };
  const endWindow = () => {
    if (!issuing) return;
    issuing = false;
    windowEnd = performance.now();
    clearTimeout(windowTimer);
    if (sentAt.size === 0) return settle();
    drainTimer = setTimeout(settle, options.drainMs ?? 10_000);
  };
  const settle = () => {
    clearTimeout(drainTimer);
    finish(result());
  };
  const issue = () => {
    const id = nextId++;
    sentAt.set(id, performance.now());
    send(id);
  };

  return {
    start(sender) {
      send = sender;
      return new Promise<LoopResult>((resolve, reject) => {
        finish = resolve;
        fail = reject;
        setTimeout(() => {
          windowStart = performance.now();
          windowTimer = setTimeout(endWindow, options.durationMs);
        }, options.warmupMs);
        for (let i = 0; i < options.inflight; i++) issue();
      });
    },
    complete(id, size) {
      const t0 = sentAt.get(id);
      if (t0 === undefined) return;
      sentAt.delete(id);
      const now = performance.now();
      if (t0 >= windowStart && now <= windowEnd) {
        if (size < minBytes) errors++;
        else {
          latencies[count++] = now - t0;
          bytes += size;
          if (count === options.maxRequests) endWindow();
        }
      }
      if (issuing) issue();
      else if (sentAt.size === 0) settle();
    },
    abort(reason) {
      issuing = false;
      clearTimeout(windowTimer);
      clearTimeout(drainTimer);
      if (count > 0) finish(result());
      else fail(reason);
    },
  };
}
