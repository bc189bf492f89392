import { JSONRPCMessageSchema } from '@modelcontextprotocol/core';
import type * as z from 'zod';

/** One JSON-RPC 2.0 message as the MCP SDK (v2) defines it. */
export type JSONRPCMessage = z.infer<typeof JSONRPCMessageSchema>;

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
  if (isPlainMessage(value)) return { ok: true, message: value as JSONRPCMessage };
  const parsed = JSONRPCMessageSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: 'invalid', detail: 'not a JSON-RPC 2.0 message' };
  return { ok: true, message: parsed.data };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The SDK's RequestIdSchema: a string or a safe integer. */
const isId = (v: unknown): boolean => typeof v === 'string' || Number.isSafeInteger(v);
/** Absent, or an object without `_meta` (the only member the SDK schemas constrain in params and results). */
const isPlainBody = (v: unknown): boolean => v === undefined || (isObject(v) && v._meta === undefined);

/**
 * A cheap check that accepts only messages `JSONRPCMessageSchema` certainly accepts: a request,
 * notification or result with exactly the members the strict schemas allow and no `_meta`.
 * Everything else (errors, `_meta`, extra members) is left to the schema, so what is accepted
 * is unchanged; the common case no longer pays for a zod parse (the SDK's Protocol parses the
 * request again anyway).
 */
function isPlainMessage(v: unknown): boolean {
  if (!isObject(v) || v.jsonrpc !== '2.0') return false;
  const members = Object.keys(v).length;
  if (typeof v.method === 'string') {
    const expected = 2 + (v.id === undefined ? 0 : 1) + (v.params === undefined ? 0 : 1);
    return members === expected && (v.id === undefined || isId(v.id)) && isPlainBody(v.params);
  }
  return members === 3 && isId(v.id) && isObject(v.result) && isPlainBody(v.result);
}

/** Encodes a JSON-RPC message for a text frame. */
export function encodeFrame(message: JSONRPCMessage): string {
  return JSON.stringify(message);
}
