/**
 * Raw MCP-over-WebSocket plumbing for the load generators: authenticated connect, initialize,
 * pre-serialized JSON-RPC request frames and cheap id extraction from response frames.
 */
import WebSocket from 'ws';

/** Protocol revision sent in `initialize`. */
export const PROTOCOL_VERSION = '2025-11-25';
/** The stateless revision: no initialize, every request carries the version in `_meta`. */
export const MODERN_VERSION = '2026-07-28';
/** The `_meta` envelope every 2026-07-28 request carries. */
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'mcp-bench', version: '0.1.0' },
};

/** A tool call of a benchmark row. */
export interface ToolCall {
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

/**
 * Pre-serializes a JSON-RPC request; the returned function only splices the id in. The id comes
 * right after `jsonrpc`, so servers that scan for it (the echo ceiling) find it in the first bytes.
 */
export function requestFrames(method: string, params: unknown): (id: number) => string {
  const head = '{"jsonrpc":"2.0","id":';
  const tail = `,"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
  return (id) => head + id + tail;
}

/** `tools/call` frames for `call`; `modern`: with the 2026-07-28 `_meta` envelope. */
export function toolCallFrames(call: ToolCall, modern = false): (id: number) => string {
  const params = { name: call.name, arguments: call.arguments };
  return requestFrames('tools/call', modern ? { ...params, _meta: MODERN_META } : params);
}

const ID_KEY = Buffer.from('"id":');

function digitsAt(buf: Buffer, from: number): number {
  let n = 0;
  let i = from;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return i === from ? -1 : n;
}

/**
 * The numeric id of a JSON-RPC frame without parsing it: the SDK writes `"id"` last, requests
 * carry it first, so the tail and then the head are scanned; anything else is parsed. -1 when
 * the frame has no numeric id.
 */
export function frameId(buf: Buffer): number {
  const tailFrom = Math.max(0, buf.length - 32);
  const atTail = buf.indexOf(ID_KEY, tailFrom);
  if (atTail >= 0) return digitsAt(buf, atTail + ID_KEY.length);
  const atHead = buf.subarray(0, 64).indexOf(ID_KEY);
  if (atHead >= 0) return digitsAt(buf, atHead + ID_KEY.length);
  try {
    const id = (JSON.parse(buf.toString()) as { id?: unknown }).id;
    return typeof id === 'number' ? id : -1;
  } catch {
    return -1;
  }
}

/** Options of {@link openWs}. */
export interface OpenOptions {
  /** Bearer token sent in `Authorization`. */
  readonly token?: string | undefined;
  /** Source address (spreads many connections over 127.0.0.x). Default the kernel's choice. */
  readonly localAddress?: string | undefined;
  /** Time allowed for connect + upgrade, in ms. Default 30000. */
  readonly timeoutMs?: number;
}

/**
 * Opens a WebSocket with subprotocol `mcp` (no compression).
 * @throws Error with the HTTP status when the upgrade is refused, or on a socket error.
 */
export function openWs(url: string, options: OpenOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, ['mcp'], {
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    perMessageDeflate: false,
    handshakeTimeout: options.timeoutMs ?? 30_000,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.off('error', reject);
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      reject(new Error(`upgrade refused: HTTP ${res.statusCode} ${res.headers['www-authenticate'] ?? ''}`));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

const INITIALIZE = requestFrames('initialize', {
  protocolVersion: PROTOCOL_VERSION,
  capabilities: {},
  clientInfo: { name: 'mcp-bench', version: '0.1.0' },
});
const INITIALIZED = '{"jsonrpc":"2.0","method":"notifications/initialized"}';

/**
 * Sends `initialize` (id 0) and `notifications/initialized`.
 * @throws Error when the answer is not a result or does not come within `timeoutMs` (default 30000).
 */
export function initialize(ws: WebSocket, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error('initialize timed out')), timeoutMs);
    const onMessage = (data: Buffer) => {
      if (frameId(data) !== 0) return;
      done(data.includes('"result"') ? undefined : new Error(`initialize failed: ${data.toString().slice(0, 200)}`));
    };
    const onClose = (code: number) => done(new Error(`closed (${code}) during initialize`));
    const done = (err?: Error) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      if (err) reject(err);
      else {
        ws.send(INITIALIZED);
        resolve();
      }
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
    ws.send(INITIALIZE(0));
  });
}

/** The protocol era a load generator opens a connection in. */
export type Era = 'legacy' | 'modern';

const DISCOVER = requestFrames('server/discover', { _meta: MODERN_META });

/** The first request a client of `era` sends (id 0), and the notification that follows its answer, if any. */
export function greeting(era: Era): { readonly request: string; readonly followUp?: string } {
  return era === 'legacy' ? { request: INITIALIZE(0), followUp: INITIALIZED } : { request: DISCOVER(0) };
}

/**
 * Opens the MCP conversation the way a client of `era` does: 2025-11-25 with `initialize`
 * (+ `notifications/initialized`), 2026-07-28 with the `server/discover` probe of the SDK's
 * clients (id 0). Resolves once answered.
 * @throws Error when the answer is not a result or does not come within `timeoutMs` (default 30000).
 */
export async function greet(ws: WebSocket, era: Era, timeoutMs = 30_000): Promise<void> {
  if (era === 'legacy') return initialize(ws, timeoutMs);
  const answer = await Promise.race([
    requestOnce(ws, DISCOVER, 0),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('server/discover timed out')), timeoutMs).unref(),
    ),
  ]);
  if (!answer.includes('"result"')) throw new Error(`server/discover failed: ${answer.slice(0, 200)}`);
}

/** Sends one request on `ws` and resolves with the raw text of the response with the same id. */
export function requestOnce(ws: WebSocket, frames: (id: number) => string, id: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer) => {
      if (frameId(data) !== id) return;
      ws.off('message', onMessage);
      resolve(data.toString());
    };
    ws.on('message', onMessage);
    ws.once('close', (code) => reject(new Error(`closed (${code}) before the response`)));
    ws.send(frames(id));
  });
}

/** Closes `ws` and waits (at most `ms`, default 2000) for the close handshake, then terminates it. */
export async function closeWs(ws: WebSocket, ms = 2000): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.close(1000);
  const timer = setTimeout(() => ws.terminate(), ms);
  await closed;
  clearTimeout(timer);
}
