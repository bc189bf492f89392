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
}

/**
 * The SDK `Transport` over one server-side `ws` socket: one JSON-RPC message per text frame.
 * A binary frame closes with 1003; invalid JSON gets a -32700 error (id null) and the socket
 * stays open; a frame that is JSON but not JSON-RPC gets -32600. At the token's `exp` the socket
 * closes with 4401 "token expired", and no frame is served or sent after `exp` even if the timer
 * has not fired yet.
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

  constructor(socket: WebSocket, options: WsServerTransportOptions) {
    this.#socket = socket;
    this.#authInfo = options.authInfo;
    this.#now = options.now ?? Date.now;
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
    await new Promise<void>((resolve, reject) => {
      this.#socket.send(frame, (err) => (err ? reject(err) : resolve()));
    });
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
    if (this.expired) {
      this.#expire();
      return;
    }
    const decoded = decodeFrame(data, isBinary);
    if (decoded.ok) {
      this.onmessage?.(decoded.message, { authInfo: this.#authInfo });
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
    this.onclose?.();
  }
}
