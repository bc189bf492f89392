import type { IncomingMessage } from 'node:http';
import type { InboundClassificationOutcome, JSONRPCRequest } from '@modelcontextprotocol/server';
import { dispatchedRequest } from '../mcp/modern-dispatch.ts';
import { stripOws } from '../mcp/request-classifier.ts';

/** How `Mcp-Name` carries a value that is not plain ASCII (SEP-2243): decoding it is left to the SDK. */
const BASE64_SENTINEL_PREFIX = '=?base64?';
const BASE64_SENTINEL_SUFFIX = '?=';

/**
 * The request when a 2026-07-28 POST can go to the long-lived dispatch, undefined when it must go
 * to the SDK's `createMcpHandler` (which then answers it exactly as before). Only a request the
 * SDK's entry would dispatch unchanged qualifies, so no refusal is written twice:
 *
 * - the SDK classified it as a modern request (`classifyInboundRequest`: envelope valid,
 *   `MCP-Protocol-Version` and `Mcp-Method`, when present, agree with the body) naming the
 *   revision served;
 * - the standard headers its entry then requires are there (`MCP-Protocol-Version`,
 *   `Mcp-Method`, and for tools/call an `Mcp-Name` that is not Base64-encoded and equals
 *   `params.name`);
 * - its method is one the dispatch serves, and no tool of `toolsWithParamHeaders` is called
 *   (their `Mcp-Param-*` headers are checked by the SDK's entry only).
 *
 * Two rungs of the SDK's entry need no check here: no method requires a client capability
 * (its table is empty), and no tool declares a scope challenge of its own (step-up is ours,
 * http/scope-step-up.ts, before this). Notifications and `subscriptions/listen` go to the SDK.
 */
export function dispatchableRequest(
  outcome: InboundClassificationOutcome,
  req: IncomingMessage,
  toolsWithParamHeaders: ReadonlySet<string>,
): JSONRPCRequest | undefined {
  const request = dispatchedRequest(outcome);
  if (request === undefined) return undefined;
  if (req.headers['mcp-protocol-version'] === undefined || req.headers['mcp-method'] === undefined) return undefined;
  if (request.method !== 'tools/call') return request;
  const name = (request.params as { name?: unknown } | undefined)?.name;
  const header = req.headers['mcp-name'];
  if (typeof name !== 'string' || typeof header !== 'string' || toolsWithParamHeaders.has(name)) return undefined;
  const value = stripOws(header);
  if (value.startsWith(BASE64_SENTINEL_PREFIX) && value.endsWith(BASE64_SENTINEL_SUFFIX)) return undefined;
  return value === name ? request : undefined;
}
