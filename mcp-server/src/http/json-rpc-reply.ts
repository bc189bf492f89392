import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResponseId } from '../mcp/request-id.ts';
import { BodyTooLarge, readBody } from './request-body.ts';

/** Writes a JSON response unless headers were already sent. */
export function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  sendJsonText(res, status, headers, JSON.stringify(body));
}

/** {@link sendJson} of a body already serialised (`text` is its JSON). */
export function sendJsonText(res: ServerResponse, status: number, headers: Record<string, string>, text: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/** Answers with a JSON-RPC error; `id` is the request's when it could be read (JSON-RPC 2.0 §5). */
export function jsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  id: ResponseId = null,
  data?: unknown,
): void {
  sendJson(res, status, {}, { jsonrpc: '2.0', error: { code, message, ...(data === undefined ? {} : { data }) }, id });
}

/**
 * The parsed POST body, or undefined once an error was answered: 413 over `maxBytes`, 400
 * -32700 when not JSON, 400 -32600 for a batch (MCP removed JSON-RPC batching in 2025-06-18).
 */
export async function readJsonMessage(
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number,
): Promise<{ body: unknown } | undefined> {
  let raw: Buffer;
  try {
    raw = await readBody(req, maxBytes);
  } catch (err) {
    if (!(err instanceof BodyTooLarge)) throw err;
    res.setHeader('connection', 'close');
    jsonRpcError(res, 413, -32600, `request body over ${maxBytes} bytes`);
    return undefined;
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    jsonRpcError(res, 400, -32700, 'Parse error: the body is not JSON');
    return undefined;
  }
  if (Array.isArray(body)) {
    jsonRpcError(res, 400, -32600, 'Invalid Request: batches are not supported; send one message per request');
    return undefined;
  }
  return { body };
}
