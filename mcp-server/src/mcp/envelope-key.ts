import { isJsonObject, plainRequest } from './request-id.ts';

/** The `_meta` keys the SDK lifts into a 2026-07-28 request's envelope, in its order. */
export const ENVELOPE_KEYS = [
  'io.modelcontextprotocol/protocolVersion',
  'io.modelcontextprotocol/clientInfo',
  'io.modelcontextprotocol/clientCapabilities',
  'io.modelcontextprotocol/logLevel',
] as const;
const ENVELOPE_KEY_SET: ReadonlySet<string> = new Set(ENVELOPE_KEYS);

/**
 * A key naming one envelope exactly (which envelope keys are present, and their JSON), or
 * undefined when `meta` holds anything but envelope keys, or none of them. Top-level order is
 * the SDK's, so the envelope the SDK lifts out of a request and the raw `_meta` of a later
 * request give the same key; nested values keep their wire order (a different order is only a
 * different key: a miss, never a false hit).
 */
export function envelopeKey(meta: Record<string, unknown>): string | undefined {
  let key = '';
  let count = 0;
  for (const k of ENVELOPE_KEYS) {
    if (!(k in meta)) {
      key += '-\n';
      continue;
    }
    count++;
    key += `${JSON.stringify(meta[k])}\n`;
  }
  for (const k in meta) if (!ENVELOPE_KEY_SET.has(k)) return undefined;
  return count === 0 ? undefined : key;
}

/**
 * A key naming the params of an `initialize` of the plain shape exactly (their JSON), or
 * undefined for any other message, or params with `_meta` (a progress token, anything lifted).
 */
export function initializeKey(message: unknown): string | undefined {
  // The method first: a 2025-era connection's every tool call is asked this on its way to the dispatch.
  if ((message as { method?: unknown } | null)?.method !== 'initialize') return undefined;
  const request = plainRequest(message);
  if (request === undefined || !isJsonObject(request.params) || '_meta' in request.params) return undefined;
  return JSON.stringify(request.params);
}

/**
 * The longest key a {@link KeyMemo} keeps, in UTF-16 units: an envelope of a real client (version,
 * name, capabilities) is a few hundred. Without a bound, a client could leave a memo holding its
 * largest messages (MAX_MESSAGE_BYTES each) long after they were answered; a longer key is simply
 * never remembered (its requests take the SDK's path every time).
 */
export const MAX_KEY_LENGTH = 8192;

/** A bounded set of keys, least recently used first: what the SDK accepted, remembered. */
export class KeyMemo<V> {
  readonly #entries = new Map<string, V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  /** Remembers `value` under `key`, unless the key is longer than {@link MAX_KEY_LENGTH}. */
  remember(key: string, value: V): void {
    if (key.length > MAX_KEY_LENGTH) return;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
