import type { IncomingMessage } from 'node:http';
import {
  type InboundClassificationOutcome,
  isInitializeRequest,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResponse,
  isJsonContentType,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/server';

/** A refusal of a POST before it reaches the SDK: HTTP status, JSON-RPC code and message. */
export interface PostProblem {
  readonly status: number;
  readonly code: number;
  readonly message: string;
}

function accepts(req: IncomingMessage, type: string): boolean {
  return (req.headers.accept ?? '').split(',').some((t) => t.trim().split(';')[0]?.trim() === type);
}

/** True when `body` is one JSON-RPC 2.0 message (request, notification or response). */
export function isJsonRpcMessage(body: unknown): boolean {
  return isJSONRPCRequest(body) || isJSONRPCNotification(body) || isJSONRPCResponse(body);
}

/**
 * What every POST must be, whatever its era, checked before the SDK sees it so the refusal can
 * echo the request id: a JSON `Content-Type` (415) and one JSON-RPC message (400 -32600). A body
 * the SDK's classifier routed as a 2026-07-28 message (`outcome`) is one already: it is not
 * parsed against the JSON-RPC schemas a second time.
 */
export function postShapeProblem(
  req: IncomingMessage,
  body: unknown,
  outcome?: InboundClassificationOutcome,
): PostProblem | undefined {
  if (!isJsonContentType(req.headers['content-type'] ?? null)) {
    return { status: 415, code: -32000, message: 'Unsupported Media Type: Content-Type must be application/json' };
  }
  if (outcome?.kind !== 'modern' && !isJsonRpcMessage(body)) {
    return { status: 400, code: -32600, message: 'Invalid Request: the body is not a JSON-RPC 2.0 message' };
  }
  return undefined;
}

/**
 * The checks the SDK's 2025-11-25 transport makes on a POST, made first so the answer can echo
 * the request id (the SDK answers them with `id: null`): Accept must name both JSON and SSE
 * (406), and an `MCP-Protocol-Version`
 * header on a request other than initialize must name a supported revision (400).
 */
export function legacyPostProblem(req: IncomingMessage, body: unknown): PostProblem | undefined {
  if (!accepts(req, 'application/json') || !accepts(req, 'text/event-stream')) {
    return {
      status: 406,
      code: -32000,
      message: 'Not Acceptable: Client must accept both application/json and text/event-stream',
    };
  }
  const version = req.headers['mcp-protocol-version'];
  if (typeof version === 'string' && !isInitializeRequest(body) && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    return {
      status: 400,
      code: -32000,
      message: `Bad Request: Unsupported protocol version: ${version} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
    };
  }
  return undefined;
}
