import type { CallToolResult } from '@modelcontextprotocol/client';
import { ClientError, scopeAdvice } from './errors.ts';

/** The text of a result's `text` blocks, joined by newlines. */
export function resultText(result: CallToolResult): string {
  return result.content
    .filter((b): b is Extract<typeof b, { type: 'text' }> => b.type === 'text')
    .map((b) => b.text)
    .join('\n');
}

/**
 * Turns an `isError` tool result into a {@link ClientError}: `insufficient_scope` when the
 * server says a scope is missing (structuredContent `{ error: 'insufficient_scope', scope }` or
 * text mentioning it), `tool_error` otherwise. Returns undefined for a successful result.
 */
export function toolFailure(tool: string, result: CallToolResult, clientId?: string): ClientError | undefined {
  if (!result.isError) return undefined;
  const text = resultText(result).trim();
  const sc = (result.structuredContent ?? {}) as { error?: unknown; scope?: unknown };
  const scopeWords = /insufficient[_ ]scope|(?:missing|needs?|requires?|lacks?) (?:the )?scope/i;
  if (sc.error === 'insufficient_scope' || scopeWords.test(text)) {
    const scope =
      typeof sc.scope === 'string'
        ? sc.scope
        : /scopes?\s*(?:[:=]\s*)?["'`]?([A-Za-z][\w-]*\.[\w.-]*\w)/i.exec(text)?.[1];
    const needed = scope ?? 'a scope';
    return new ClientError(
      'insufficient_scope',
      `${tool}: the server needs scope ${needed}, which the token lacks: ${scopeAdvice(needed, clientId)}`,
      scope ? { scope } : {},
    );
  }
  return new ClientError('tool_error', `${tool} failed: ${text || 'the tool reported an error without a message'}`);
}
