import type { Counter, Histogram } from 'prom-client';

/** Outcomes of a call refused before its tool ran. */
export type RefusedOutcome = 'insufficient_scope' | 'rate_limited';

/**
 * The metrics of one tool. Recording a call costs a plain increment plus one observation of a
 * histogram child resolved once: counts are kept in numbers and handed to prom-client when it
 * collects (at each scrape), because a prom-client counter increment hashes its labels every time.
 */
export interface ToolCallMetrics {
  /** A call refused before it ran (counted, not timed). */
  refused(outcome: RefusedOutcome): void;
  /**
   * A call that ran: `code` is its error code (an `isError` result), undefined when it succeeded;
   * `seconds` is how long it took.
   */
  ran(code: string | undefined, seconds: number): void;
  /** Adds this tool's counts to `calls` (called from the counter's `collect`, after a reset). */
  collect(calls: Counter<'tool' | 'outcome'>): void;
}

/**
 * Distinct error outcomes one tool may add as label values. Tool error codes are a closed union
 * (ServerErrorCode) today; the cap keeps the series bounded even if a future code were built from
 * input, whatever a client sends.
 */
export const MAX_ERROR_OUTCOMES = 32;

/** Label value of error outcomes beyond {@link MAX_ERROR_OUTCOMES}. */
export const OVERFLOW_OUTCOME = 'other';

/**
 * Creates the metrics of tool `tool`: counts by outcome (reported through {@link ToolCallMetrics.collect}),
 * and `duration` observed by `{tool, result}` (`ok` or `error`), both children resolved here.
 */
export function toolCallMetrics(tool: string, duration: Histogram<'tool' | 'result'>): ToolCallMetrics {
  const okDuration = duration.labels(tool, 'ok');
  const errorDuration = duration.labels(tool, 'error');
  // Present from the start (at 0), so rates and alerts see the series before the first call.
  duration.zero({ tool, result: 'ok' });
  duration.zero({ tool, result: 'error' });
  let ok = 0;
  let insufficientScope = 0;
  let rateLimited = 0;
  const errors = new Map<string, number>();

  return {
    refused(outcome) {
      if (outcome === 'rate_limited') rateLimited++;
      else insufficientScope++;
    },
    ran(code, seconds) {
      if (code === undefined) {
        ok++;
        okDuration.observe(seconds);
        return;
      }
      const outcome = errors.has(code) || errors.size < MAX_ERROR_OUTCOMES ? code : OVERFLOW_OUTCOME;
      errors.set(outcome, (errors.get(outcome) ?? 0) + 1);
      errorDuration.observe(seconds);
    },
    collect(calls) {
      calls.inc({ tool, outcome: 'ok' }, ok);
      calls.inc({ tool, outcome: 'insufficient_scope' }, insufficientScope);
      calls.inc({ tool, outcome: 'rate_limited' }, rateLimited);
      for (const [outcome, n] of errors) calls.inc({ tool, outcome }, n);
    },
  };
}
