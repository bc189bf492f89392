import { type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';

/** Outcome of decoding one WebSocket frame into a JSON-RPC message. */
export type DecodedFrame =
  | { readonly ok: true; readonly message: JSONRPCMessage }
  | { readonly ok: false; readonly reason: 'binary' | 'parse' | 'invalid'; readonly detail: string };

/**
 * Decodes one frame: MCP over WebSocket carries exactly one UTF-8 JSON-RPC message per text frame.
 * Binary frames, invalid JSON and non-JSON-RPC values are reported, never thrown.
 */
export function decodeFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): DecodedFrame {
  if (isBinary) return { ok: false, reason: 'binary', detail: 'binary frames are not accepted; send JSON-RPC as text' };
  const text = Buffer.isBuffer(data)
    ? data.toString('utf8')
    : Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: 'parse', detail: (err as Error).message };
  }
  const parsed = JSONRPCMessageSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: 'invalid', detail: 'not a JSON-RPC 2.0 message' };
  return { ok: true, message: parsed.data };
}

/** Encodes a JSON-RPC message for a text frame. */
export function encodeFrame(message: JSONRPCMessage): string {
  return JSON.stringify(message);
}
