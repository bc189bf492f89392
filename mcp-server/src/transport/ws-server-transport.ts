import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { CloseCode, decodeFrame, encodeFrame } from 'mcp-ws-common';
import { WebSocket } from 'ws';

/** setTimeout's ceiling (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options of {@link WsServerTransport}. */
export interface WsServerTransportOptions {
  /** The verified token of the connection, handed to every request as `extra.authInfo`. */
  authInfo: AuthInfo;
  /** Clock in ms since the epoch. Default Date.now (tests may replace it). */
  now?: () => number;
  /**
   * Outbound bytes queued on the socket (`bufferedAmount`) above which the transport stops reading
   * from it until it drains below half. Default unlimited.
   */
  maxBufferedBytes?: number;
  /** Requests of this connection being served at once before reading stops. Default 64. */
  maxInFlight?: number;
  /**
   * The TCP/TLS socket under the WebSocket (the upgrade's `req.socket`). When given, small
   * responses produced in one event-loop turn are written together: the socket is corked at the first send
   * and uncorked in the turn's check phase, so a burst of N responses costs one writev, not N.
   */
  rawSocket?: { cork(): void; uncork(): void };
}

/**
 * Largest frame (UTF-16 length of its text) whose write is coalesced. Small frames are where a
 * syscall per frame dominates; large ones gain nothing and, corked, would be copied into one
 * batch buffer while a slow peer holds them.
 */
const COALESCE_MAX_CHARS = 16 * 1024;

/** A key for a JSON-RPC id (a number and a string of the same digits differ). */
const idKey = (id: unknown): string => `${typeof id}:${String(id)}`;

/**
 * The SDK `Transport` over one server-side `ws` socket: one JSON-RPC message per text frame.
 * A binary frame closes with 1003; invalid JSON gets a -32700 error (id null) and the socket
 * stays open; a frame that is JSON but not JSON-RPC gets -32600. At the token's `exp` the socket
 * closes with 4401 "token expired", and no frame is served or sent after `exp` even if the timer
 * has not fired yet. Backpressure: while the socket's `bufferedAmount` exceeds `maxBufferedBytes`
 * or `maxInFlight` requests are unanswered, the transport pauses the socket (frames already read
 * wait in a small backlog) and resumes when a send completes and the pressure is gone (no polling:
 * every byte queued leaves through a send whose completion re-checks).
 */
export class WsServerTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  readonly #socket: WebSocket;
  readonly #authInfo: AuthInfo;
  readonly #now: () => number;
  #started = false;
  /** close() was asked for or the socket closed: serve and send nothing more. */
  #closing = false;
  /** onclose was delivered. */
  #closed = false;
  #expiryTimer: NodeJS.Timeout | undefined;
  readonly #maxBufferedBytes: number;
  readonly #maxInFlight: number;
  /** Ids of requests received and not yet answered. */
  readonly #inFlight = new Set<string>();
  /** Frames read while paused, dispatched once the pressure is gone (bounded: the socket is paused). */
  #backlog: [Buffer | ArrayBuffer | Buffer[], boolean][] = [];
  #paused = false;
  readonly #rawSocket: { cork(): void; uncork(): void } | undefined;
  /** The raw socket is corked until the check phase of this turn. */
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#rawSocket?.uncork();
  };

  constructor(socket: WebSocket, options: WsServerTransportOptions) {
    this.#socket = socket;
    this.#authInfo = options.authInfo;
    this.#now = options.now ?? Date.now;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? Number.POSITIVE_INFINITY;
    this.#maxInFlight = options.maxInFlight ?? 64;
    this.#rawSocket = options.rawSocket;
  }

  /** True while reading is stopped because the peer does not read or too many requests are open. */
  get paused(): boolean {
    return this.#paused;
  }

  /** True once the token's `exp` has passed. */
  get expired(): boolean {
    const exp = this.#authInfo.expiresAt;
    return exp !== undefined && this.#now() >= exp * 1000;
  }

  /** Starts listening; the SDK calls this from `connect()`. @throws Error on a second call. */
  async start(): Promise<void> {
    if (this.#started) throw new Error('WsServerTransport already started');
    this.#started = true;
    this.#socket.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    this.#socket.on('close', () => this.#finish());
    this.#socket.on('error', (err) => this.onerror?.(err));
    this.#armExpiry();
    if (this.#socket.readyState !== WebSocket.OPEN) this.#finish();
  }

  /** Sends one message as a text frame. @throws Error when the socket is closed or the token expired. */
  async send(message: JSONRPCMessage): Promise<void> {
    if (this.expired) {
      this.#expire();
      throw new Error('token expired: not sending');
    }
    if (this.#closing || this.#socket.readyState !== WebSocket.OPEN) throw new Error('WebSocket is not open');
    const frame = encodeFrame(message);
    if ('id' in message && ('result' in message || 'error' in message)) this.#inFlight.delete(idKey(message.id));
    if (frame.length <= COALESCE_MAX_CHARS) this.#coalesce();
    const sent = new Promise<void>((resolve, reject) => {
      this.#socket.send(frame, (err) => {
        if (this.#paused) this.#relieve();
        if (err) reject(err);
        else resolve();
      });
    });
    this.#applyPressure();
    await sent;
  }

  /** Closes with 1000 (normal closure). */
  async close(): Promise<void> {
    this.closeWith(CloseCode.NORMAL, 'closing');
  }

  /** Closes the socket with a code and reason; `onclose` fires once the close completes. */
  closeWith(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#clearExpiry();
    if (this.#socket.readyState === WebSocket.OPEN || this.#socket.readyState === WebSocket.CONNECTING) {
      this.#socket.close(code, reason);
    } else {
      this.#finish();
    }
  }

  #onFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.#closing) return;
    if (this.#paused) {
      this.#backlog.push([data, isBinary]);
      return;
    }
    if (this.expired) {
      this.#expire();
      return;
    }
    const decoded = decodeFrame(data, isBinary);
    if (decoded.ok) {
      const msg = decoded.message as { id?: unknown; method?: unknown; params?: { requestId?: unknown } };
      if (typeof msg.method === 'string') {
        if (msg.id !== undefined) this.#inFlight.add(idKey(msg.id));
        // A cancelled request gets no response: stop counting it.
        else if (msg.method === 'notifications/cancelled') this.#inFlight.delete(idKey(msg.params?.requestId));
      }
      this.onmessage?.(decoded.message, { authInfo: this.#authInfo });
      this.#applyPressure();
      return;
    }
    if (decoded.reason === 'binary') {
      this.closeWith(CloseCode.UNSUPPORTED_DATA, 'binary frames are not accepted');
      return;
    }
    const error =
      decoded.reason === 'parse'
        ? { code: -32700, message: 'Parse error: the frame is not valid JSON' }
        : { code: -32600, message: 'Invalid Request: the frame is not a JSON-RPC 2.0 message' };
    this.onerror?.(new Error(`${error.message} (${decoded.detail})`));
    // Written directly: the SDK's message type does not allow the null id JSON-RPC requires here.
    this.#socket.send(JSON.stringify({ jsonrpc: '2.0', id: null, error }));
    this.#applyPressure();
  }

  /**
   * Holds writes until the check phase of this event-loop turn: libuv hands all finished file
   * reads to one poll phase, so the small responses they complete leave in one writev.
   */
  #coalesce(): void {
    if (this.#corked || this.#rawSocket === undefined) return;
    this.#corked = true;
    this.#rawSocket.cork();
    setImmediate(this.#uncork);
  }

  #underPressure(): boolean {
    return this.#socket.bufferedAmount > this.#maxBufferedBytes || this.#inFlight.size >= this.#maxInFlight;
  }

  /** Stops reading when the peer does not drain its socket or too many requests are open. */
  #applyPressure(): void {
    if (this.#paused || this.#closing || !this.#underPressure()) return;
    this.#paused = true;
    this.#socket.pause();
  }

  /** Called when a send completes: resumes reading once the socket drained below half and a request slot is free. */
  #relieve(): void {
    if (this.#closing) return;
    const drained =
      this.#socket.bufferedAmount <= this.#maxBufferedBytes / 2 && this.#inFlight.size < this.#maxInFlight;
    if (!drained) return;
    this.#paused = false;
    while (this.#backlog.length > 0 && !this.#paused && !this.#closing) {
      const [data, isBinary] = this.#backlog.shift()!;
      this.#onFrame(data, isBinary);
    }
    if (!this.#paused) this.#socket.resume();
  }

  #armExpiry(): void {
    const exp = this.#authInfo.expiresAt;
    if (exp === undefined) return;
    const wait = exp * 1000 - this.#now();
    if (wait <= 0) {
      this.#expire();
      return;
    }
    this.#expiryTimer = setTimeout(() => this.#armExpiry(), Math.min(wait, MAX_TIMER_MS));
    this.#expiryTimer.unref();
  }

  #expire(): void {
    this.closeWith(CloseCode.TOKEN_EXPIRED, 'token expired');
  }

  #clearExpiry(): void {
    if (this.#expiryTimer !== undefined) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closing = true;
    this.#closed = true;
    this.#clearExpiry();
    this.#backlog = [];
    this.onclose?.();
  }
}
