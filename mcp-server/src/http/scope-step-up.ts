import type { AuthInfo } from '@modelcontextprotocol/server';
import { ServerError } from '../errors.ts';
import { TOOLS } from '../mcp/tool-list.ts';

const SCOPE_OF_TOOL: ReadonlyMap<string, string> = new Map(TOOLS.map((t) => [t.name, t.scope]));

/**
 * Step-up authorization over Streamable HTTP (MCP authorization, "Runtime insufficient scope",
 * SEP-2350): a `tools/call` of a tool the request's token may not call is refused with 403
 * `insufficient_scope` naming the scope this operation needs (not the union: the client
 * accumulates), so an OAuth client can re-authorize with it before anything runs. Other methods
 * and unknown tools pass (the session answers them). A WebSocket has no per-request status: there
 * the tool's `isError` result names the scope instead.
 * @returns the tool and the error to refuse the request with, or undefined to serve it
 */
export function missingToolScope(
  body: unknown,
  authInfo: AuthInfo,
): { readonly tool: string; readonly error: ServerError } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { method, params } = body as { method?: unknown; params?: { name?: unknown } | null };
  if (method !== 'tools/call' || typeof params?.name !== 'string') return undefined;
  const scope = SCOPE_OF_TOOL.get(params.name);
  if (scope === undefined || authInfo.scopes.includes(scope)) return undefined;
  const message = `${params.name} needs scope ${scope}, which this token lacks`;
  return { tool: params.name, error: new ServerError('insufficient_scope', message, { scopes: [scope] }) };
}
