import type { IncomingMessage } from 'node:http';
import {
  classifyInboundRequest,
  type InboundClassificationOutcome,
  type JSONRPCRequest,
  type MessageClassification,
} from '@modelcontextprotocol/server';
import { ENVELOPE_KEYS, envelopeKey, KeyMemo } from '../mcp/envelope-key.ts';
import { DISPATCH_REVISION } from '../mcp/modern-dispatch.ts';
import { isJsonObject, plainRequest } from '../mcp/request-id.ts';

/** The methods the long-lived dispatch serves; every other 2026-07-28 request goes to the SDK's entry. */
const DISPATCHED_METHODS: ReadonlySet<string> = new Set(['tools/call', 'tools/list', 'server/discover']);

/** How `Mcp-Name` carries a value that is not plain ASCII (SEP-2243): decoding it is left to the SDK. */
const BASE64_SENTINEL_PREFIX = '=?base64?';
const BASE64_SENTINEL_SUFFIX = '?=';

/** RFC 9110 optional whitespace around a field value, as the SDK strips it before comparing. */
function stripOws(value: string): string {
  const isOws = (code: number) => code === 0x20 || code === 0x09;
  if (!isOws(value.charCodeAt(0)) && !isOws(value.charCodeAt(value.length - 1))) return value;
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** A request header as the SDK's web-standard view reads it (repeated values joined, as node joins them). */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The SDK's classification of a POST, without building a web Request. */
function classifyWithSdk(req: IncomingMessage, body: unknown): InboundClassificationOutcome {
  return classifyInboundRequest({
    httpMethod: 'POST',
    protocolVersionHeader: header(req, 'mcp-protocol-version'),
    mcpMethodHeader: header(req, 'mcp-method'),
    mcpNameHeader: header(req, 'mcp-name'),
    body,
  });
}

type Json = Record<string, unknown>;
/** Envelopes whose classification is remembered. */
const MAX_ENVELOPES = 256;
const PROTOCOL_VERSION_KEY = ENVELOPE_KEYS[0];

let remembered = 0;

/** POSTs classified from a remembered envelope so far (tests: proof the memo answered). */
export function postClassificationStats(): { remembered: number } {
  return { remembered };
}

/** The `_meta` of a request whose shape the SDK's JSON-RPC schemas judge by `_meta` alone, else undefined. */
function plainRequestMeta(body: unknown): Json | undefined {
  const request = plainRequest(body);
  if (request === undefined || request.method === 'initialize' || !isJsonObject(request.params)) return undefined;
  const meta = request.params._meta;
  return isJsonObject(meta) ? meta : undefined;
}

/**
 * The era of a POST (parsed `body`) as the SDK's `createMcpHandler` decides it: its own
 * classifier (`classifyInboundRequest`, which `isLegacyRequest` runs too). `legacy` is
 * 2025-11-25 traffic; anything else (a modern route or a refusal of its ladder) is 2026-07-28's.
 *
 * Remembered per envelope: for a JSON-RPC request of the plain shape (only `jsonrpc`, a string
 * or integer `id`, `method` other than `initialize`, `params` whose `_meta` holds only envelope
 * keys) the SDK's verdict depends on the body only through that `_meta` (its schemas and envelope
 * check), and then on the `MCP-Protocol-Version` and `Mcp-Method` headers agreeing with it. Once
 * the SDK has classified such a request as a modern one, another with exactly that envelope and
 * agreeing headers gets the same classification without the SDK's schema parses (a fifth of a
 * 2026-07-28 call's CPU time). Everything else is classified by the SDK every time; a test
 * compares both on a corpus (tests/unit/server/post-classification.test.ts).
 */
export function createPostClassifier(): (req: IncomingMessage, body: unknown) => InboundClassificationOutcome {
  const modern = new KeyMemo<MessageClassification>(MAX_ENVELOPES);
  return (req, body) => {
    const meta = plainRequestMeta(body);
    const key = meta === undefined ? undefined : envelopeKey(meta);
    const known = key === undefined ? undefined : modern.get(key);
    if (known !== undefined) {
      const request = body as JSONRPCRequest;
      const version = header(req, 'mcp-protocol-version');
      const method = header(req, 'mcp-method');
      if (
        (version === undefined || stripOws(version) === known.revision) &&
        (method === undefined || stripOws(method) === request.method)
      ) {
        remembered++;
        return { kind: 'modern', messageKind: 'request', message: request, classification: known };
      }
    }
    const outcome = classifyWithSdk(req, body);
    if (key !== undefined && outcome.kind === 'modern' && outcome.messageKind === 'request') {
      const claimed = (meta as Json)[PROTOCOL_VERSION_KEY];
      // Only a claim naming its revision, whose classification is then a function of it alone.
      if (typeof claimed === 'string' && outcome.classification.revision === claimed) {
        modern.remember(key, outcome.classification);
      }
    }
    return outcome;
  };
}

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
  if (outcome.kind !== 'modern' || outcome.messageKind !== 'request') return undefined;
  if (outcome.classification.revision !== DISPATCH_REVISION) return undefined;
  const request = outcome.message as JSONRPCRequest;
  if (!DISPATCHED_METHODS.has(request.method)) return undefined;
  if (req.headers['mcp-protocol-version'] === undefined || req.headers['mcp-method'] === undefined) return undefined;
  if (request.method !== 'tools/call') return request;
  const name = (request.params as { name?: unknown } | undefined)?.name;
  const header = req.headers['mcp-name'];
  if (typeof name !== 'string' || typeof header !== 'string' || toolsWithParamHeaders.has(name)) return undefined;
  const value = stripOws(header);
  if (value.startsWith(BASE64_SENTINEL_PREFIX) && value.endsWith(BASE64_SENTINEL_SUFFIX)) return undefined;
  return value === name ? request : undefined;
}
