/** A JSON-RPC id as the spec allows it in a response: a string, a number, or null when unknown. */
export type ResponseId = string | number | null;

/**
 * The `id` of a parsed JSON-RPC message when it can be read (an object whose `id` is a string or
 * a finite number), else null: error responses echo it so the peer can match them (JSON-RPC 2.0
 * §5: null only when the id could not be determined).
 */
export function readableId(message: unknown): ResponseId {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return null;
  const id = (message as { id?: unknown }).id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
}

/** {@link readableId} of a frame's text; null when the text is not JSON. */
export function readableIdOfText(text: string): ResponseId {
  try {
    return readableId(JSON.parse(text));
  } catch {
    return null;
  }
}

/**
 * A map key for a request id: the id itself when it is a string or a number (keys compare by
 * SameValueZero, so the number 1 and the string "1" stay different ids, and no key is built per
 * request), null for anything else (such a value names no request).
 */
export type IdKey = string | number | null;

export function idKey(id: unknown): IdKey {
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

type Json = Record<string, unknown>;

/** A JSON object (not null, not an array). */
export const isJsonObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON-RPC request of the plain shape, as {@link plainRequest} accepts it. */
export interface PlainRequest {
  readonly jsonrpc: '2.0';
  readonly id: string | number;
  readonly method: string;
  readonly params?: unknown;
}

/**
 * `message` when it is a JSON-RPC request of the plain shape: `jsonrpc` "2.0", a string or safe
 * integer `id`, a string `method`, and no member but these and `params`. The shortcuts that answer
 * as the SDK would (direct tool calls, the remembered POST classification) take only this shape.
 */
export function plainRequest(message: unknown): PlainRequest | undefined {
  if (!isJsonObject(message) || message.jsonrpc !== '2.0' || typeof message.method !== 'string') return undefined;
  if (typeof message.id !== 'string' && !Number.isSafeInteger(message.id)) return undefined;
  for (const k in message) if (k !== 'jsonrpc' && k !== 'id' && k !== 'method' && k !== 'params') return undefined;
  return message as unknown as PlainRequest;
}
