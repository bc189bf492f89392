import type { Counter, Histogram } from 'prom-client';

/** Outcomes of a call refused before its tool ran. */
export type RefusedOutcome = 'insufficient_scope' | 'rate_limited';

/**
 * The metrics of one tool, with every label child resolved once: recording a call allocates no
 * label object and looks nothing up by label (prom-client still hashes the child's labels).
 */
export interface ToolCallMetrics {
  /** A call refused before it ran (counted, not timed). */
  refused(outcome: RefusedOutcome): void;
  /**
   * A call that ran: `code` is its error code (an `isError` result), undefined when it succeeded;
   * `seconds` is how long it took.
   */
  ran(code: string | undefined, seconds: number): void;
}

type CounterChild = ReturnType<Counter<'tool' | 'outcome'>['labels']>;

/**
 * Distinct error outcomes one tool may add as label values. Tool error codes are a closed union
 * (ServerErrorCode) today; the cap keeps the series bounded even if a future code were built from
 * input, whatever a client sends.
 */
export const MAX_ERROR_OUTCOMES = 32;

/** Label value of error outcomes beyond {@link MAX_ERROR_OUTCOMES}. */
export const OVERFLOW_OUTCOME = 'other';

/**
 * Creates the pre-resolved metrics of tool `tool`: `calls` counts by `{tool, outcome}`,
 * `duration` observes by `{tool, result}` (`ok` or `error`).
 */
export function toolCallMetrics(
  tool: string,
  calls: Counter<'tool' | 'outcome'>,
  duration: Histogram<'tool' | 'result'>,
): ToolCallMetrics {
  const ok = calls.labels(tool, 'ok');
  const insufficientScope = calls.labels(tool, 'insufficient_scope');
  const rateLimited = calls.labels(tool, 'rate_limited');
  const okDuration = duration.labels(tool, 'ok');
  const errorDuration = duration.labels(tool, 'error');
  const errors = new Map<string, CounterChild>();
  // Present from the start (at 0), so rates and alerts see the series before the first call.
  for (const child of [ok, insufficientScope, rateLimited]) child.inc(0);
  duration.zero({ tool, result: 'ok' });
  duration.zero({ tool, result: 'error' });

  let overflow: CounterChild | undefined;

  function errorChild(code: string): CounterChild {
    const known = errors.get(code);
    if (known !== undefined) return known;
    if (errors.size >= MAX_ERROR_OUTCOMES) {
      overflow ??= calls.labels(tool, OVERFLOW_OUTCOME);
      return overflow;
    }
    const child = calls.labels(tool, code);
    errors.set(code, child);
    return child;
  }

  return {
    refused(outcome) {
      (outcome === 'rate_limited' ? rateLimited : insufficientScope).inc();
    },
    ran(code, seconds) {
      if (code === undefined) {
        ok.inc();
        okDuration.observe(seconds);
      } else {
        errorChild(code).inc();
        errorDuration.observe(seconds);
      }
    },
  };
}
