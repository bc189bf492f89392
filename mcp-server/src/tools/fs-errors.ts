import type { CallToolResult } from '@modelcontextprotocol/server';
import { ServerError } from '../errors.ts';
import { fsError } from './path-guard.ts';

/**
 * Turns any failure of a file tool into an `isError` tool result. ServerError messages were
 * written to be shown (they name only the caller's relative path); anything else becomes a
 * generic message so host paths in Node errors never reach the client.
 */
export function toolError(err: unknown, relPath: string): { result: CallToolResult; code: string } {
  const coded = err instanceof ServerError ? err : fsError(err, relPath);
  return { result: { isError: true, content: [{ type: 'text', text: coded.message }] }, code: coded.code };
}

/** The result for a tool the token may not call: names the scope and how to grant it. */
export function missingScopeResult(tool: string, scope: string): CallToolResult {
  return {
    isError: true,
    content: [
      {
        type: 'text',
        text: `${tool} needs scope ${scope}, which this token lacks; grant the client scope ${scope} to the client in Keycloak and request it when fetching the token`,
      },
    ],
  };
}

/**
 * The result for a call over the client's rate limit: `isError`, a text saying when to retry,
 * and `_meta.retryAfterMs` (integer ms) for programs. Nothing was run.
 */
export function rateLimitedResult(tool: string, retryAfterMs: number): CallToolResult {
  return {
    isError: true,
    content: [
      {
        type: 'text',
        text: `rate limit exceeded: ${tool} was not run; retry after ${retryAfterMs} ms (RATE_LIMIT_CALLS_PER_SECOND per client)`,
      },
    ],
    _meta: { retryAfterMs },
  };
}

/** Throws ServerError `aborted` when the request was cancelled. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new ServerError('aborted', 'the request was cancelled');
}
