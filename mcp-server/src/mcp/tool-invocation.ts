import type { AuthInfo, CallToolResult } from '@modelcontextprotocol/server';
import type * as z from 'zod';
import type { Logger } from '../log.ts';
import type { ToolCallMetrics } from '../metrics/tool-call-metrics.ts';
import { missingScopeResult, rateLimitedResult } from '../tools/fs-errors.ts';
import type { ToolContext, ToolSpec } from '../tools/tool-spec.ts';
import type { RateLimiter } from './rate-limit.ts';

/** Counts tool calls in flight across connections, so shutdown can wait for them. */
export interface InFlight {
  begin(): void;
  end(): void;
}

/** What every call of a session shares: where tools work and what they are counted against. */
export interface InvocationDeps {
  /** Served directory. */
  readonly root: string;
  /** MAX_FILE_BYTES. */
  readonly maxFileBytes: number;
  /** Shutdown bookkeeping. */
  readonly inFlight?: InFlight | undefined;
  /** Per-client tool-call limiter, shared across connections and transports. */
  readonly rateLimiter?: RateLimiter | undefined;
}

/** One call: the token it is served under, where its audit line goes, how it is cancelled. */
export interface Invocation {
  readonly auth: AuthInfo;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Sends `notifications/progress` when the request asked for them; a no-op otherwise. */
  readonly progress: ToolContext['progress'];
}

/**
 * Runs one tool call the way both dispatch paths (the SDK's and mcp/direct-tool-calls.ts) serve
 * it: the scope check (a hidden tool answers which scope is missing), the per-client rate limit,
 * the run, one audit line and the metrics. Resolves with the result to send.
 */
export async function invokeTool<In extends z.ZodObject, Out extends z.ZodObject>(
  spec: ToolSpec<In, Out>,
  args: z.infer<In>,
  call: Invocation,
  deps: InvocationDeps,
  calls: ToolCallMetrics | undefined,
): Promise<CallToolResult> {
  const t0 = performance.now();
  const { auth, logger } = call;
  /** A call refused before it ran: one `access.denied` line, counted, answered with `result`. */
  const refuse = (reason: 'insufficient_scope' | 'rate_limited', detail: object, result: CallToolResult) => {
    logger.warn({ event: 'access.denied', reason, tool: spec.name, outcome: reason, ...detail });
    calls?.refused(reason);
    return result;
  };
  if (!auth.scopes.includes(spec.scope)) {
    return refuse('insufficient_scope', { scope: spec.scope }, missingScopeResult(spec.name, spec.scope));
  }
  const decision = deps.rateLimiter?.take(auth.clientId);
  if (decision !== undefined && !decision.allowed) {
    const { retryAfterMs } = decision;
    return refuse('rate_limited', { retryAfterMs }, rateLimitedResult(spec.name, retryAfterMs));
  }
  deps.inFlight?.begin();
  try {
    const outcome = await spec.run(args, {
      root: deps.root,
      maxFileBytes: deps.maxFileBytes,
      clientId: auth.clientId,
      signal: call.signal,
      progress: call.progress,
    });
    const failed = outcome.result.isError === true;
    const ms = performance.now() - t0;
    logger.info({
      event: 'tool.call',
      tool: spec.name,
      path: outcome.path,
      outcome: failed ? (outcome.code ?? 'error') : 'ok',
      bytes: outcome.bytes,
      ms: Math.round(ms * 100) / 100,
    });
    calls?.ran(failed ? (outcome.code ?? 'error') : undefined, ms / 1000);
    return outcome.result;
  } finally {
    // The result is sent after this resolves (in microtasks of this turn): count the call as
    // finished only after that, so shutdown never closes a socket under an unsent result.
    setImmediate(() => deps.inFlight?.end());
  }
}
