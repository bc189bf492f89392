import type { AuthInfo, JSONRPCMessage, MessageExtraInfo, Transport } from '@modelcontextprotocol/server';
import { CloseCode, type DecodedFrame, decodeFrame, encodeFrame } from 'mcp-ws-common';
import { WebSocket } from 'ws';
import type { Budget } from '../admission/budget.ts';
import { ConnectionAccount } from '../admission/connection-account.ts';
import type { Renewer } from '../admission/renewal.ts';
import { idKey, type ResponseId, readableIdOfText } from '../mcp/request-id.ts';
import { ExpiryTimer } from './expiry-timer.ts';
import { RENEW_METHOD, type RenewRequest, renewalResponse } from './in-band-renewal.ts';
import { InboundBacklog, type RawFrame } from './inbound-backlog.ts';
import { PoolPins } from './pool-pins.ts';

const ignoreError = (): void => {};

/** Options of {@link WsServerTransport}. */
export interface WsServerTransportOptions {
  /** The verified token of the connection, handed to every request as `extra.authInfo`. */
  authInfo: AuthInfo;
  /**
   * Verifies the tokens of `auth/renew` requests; on success the connection's token (scopes,
   * expiry) is replaced. Default none: `auth/renew` reaches the MCP layer (-32601).
   */
  renewer?: Renewer;
  /** Clock in ms since the epoch. Default Date.now (tests may replace it). */
  now?: () => number;
  /**
   * Response bytes of this connection held at once (encoded when the tool produced them, until
   * their socket write completes) above which no further request starts. Default unlimited.
   */
  maxBufferedBytes?: number;
  /** Requests of this connection in flight at once; more wait. Default 16. */
  maxInFlight?: number;
  /** The client's budget, shared by its connections on both transports. Default none. */
  clientBudget?: Budget;
  /** Frames waiting to start, in bytes, above which the socket is no longer read. Default 64 KiB. */
  maxBacklogBytes?: number;
  /**
   * The TCP/TLS socket under the WebSocket (the upgrade's `req.socket`). When given, small
   * responses produced in one event-loop turn are written together: the socket is corked at the first send
   * and uncorked in the turn's check phase, so a burst of N responses costs one writev, not N.
   */
  rawSocket?: { cork(): void; uncork(): void };
}

/**
 * Largest frame (bytes) whose write is coalesced. Small frames are where a syscall per frame
 * dominates; large ones gain nothing from waiting for the check phase.
 */
const COALESCE_MAX_BYTES = 16 * 1024;

/**
 * What one queued write costs beside its payload (ws frame header and callback, the stream's
 * buffered-write entry, libuv write request), counted with the payload so that a flood of tiny
 * answers is bounded by the same byte budget as a few large ones.
 */
const WRITE_OVERHEAD = 1024;

/**
 * A path that serves some requests without the MCP layer (mcp/direct-tool-calls.ts). A request
 * it takes is answered through {@link WsServerTransport.send} like any other (with its frame
 * when the path made it).
 */
export interface DirectPath {
  /** True when `message` was taken (it must not reach `onmessage`). */
  take(message: unknown, authInfo: AuthInfo, reply: (response: JSONRPCMessage, frame?: string) => void): boolean;
  /** The client cancelled request `requestId`. */
  cancel(requestId: unknown): void;
  /** The connection closed. */
  close(): void;
}

type RequestLike = { id?: unknown; method?: unknown; params?: { requestId?: unknown; token?: unknown } };

/**
 * The SDK `Transport` over one server-side `ws` socket: one JSON-RPC message per text frame.
 * A binary frame closes with 1003; invalid JSON gets -32700 (id null); JSON that is not JSON-RPC
 * gets -32600 echoing its id when readable; a request whose id is already in flight gets -32600
 * with that id and does not run. At the token's `exp` the socket closes with 4401 "token expired",
 * and no frame is served or sent after `exp` even if the timer has not fired yet; an `auth/renew`
 * request with a valid token of the same client and subject replaces the token and moves `exp`.
 *
 * Flow control, by construction: a request starts only while this connection and its client
 * (across connections and transports) are below their in-flight caps and their byte budgets,
 * counting each response's encoded bytes from the moment it is produced until its socket write
 * completes. Frames that must wait stay in a small backlog; frames are still read (so pongs
 * arrive) until the backlog is over `maxBacklogBytes`, and only then is the socket paused.
 */
export class WsServerTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  /** Consulted before `onmessage` for each request; set by the session serving the connection. */
  direct: DirectPath | undefined;

  readonly #socket: WebSocket;
  #authInfo: AuthInfo;
  readonly #renewer: Renewer | undefined;
  readonly #now: () => number;
  #started = false;
  /** close() was asked for or the socket closed: serve and send nothing more. */
  #closing = false;
  /** onclose was delivered; budgets were settled. */
  #closed = false;
  readonly #expiry: ExpiryTimer;
  /** Requests in flight and response bytes held, in this connection's and its client's budgets. */
  readonly #account: ConnectionAccount;
  readonly #backlog: InboundBacklog;
  /** The pool chunk this connection's pending frames keep alive (pool-pins.ts). */
  readonly #pins = new PoolPins();
  #pumping = false;
  /** When a socket write of this connection last completed (ms, `now`). */
  #lastWriteAt = 0;
  /** When a frame of this connection last arrived (ms, `now`). */
  #lastFrameAt = 0;
  readonly #rawSocket: { cork(): void; uncork(): void } | undefined;
  /** The raw socket is corked until the check phase of this turn. */
  #corked = false;
  readonly #reply = (response: JSONRPCMessage, frame?: string): void => {
    this.#send(response, frame).catch((err: unknown) => this.onerror?.(err as Error));
  };
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#rawSocket?.uncork();
  };

  readonly #onFrame = (data: RawFrame['data'], isBinary: boolean): void => {
    if (this.#closing) return;
    this.#lastFrameAt = this.#now();
    this.#backlog.push(data, isBinary);
    this.#pump();
  };
  readonly #onClose = (): void => this.#finish();
  readonly #onError = (err: Error): void => this.onerror?.(err);

  constructor(socket: WebSocket, options: WsServerTransportOptions) {
    this.#socket = socket;
    this.#authInfo = options.authInfo;
    this.#renewer = options.renewer;
    this.#now = options.now ?? Date.now;
    this.#expiry = new ExpiryTimer(this.#now, () => this.#expire());
    this.#account = new ConnectionAccount(
      { maxInFlight: options.maxInFlight ?? 16, maxBytes: options.maxBufferedBytes ?? Number.POSITIVE_INFINITY },
      options.clientBudget,
      () => this.#pump(),
    );
    this.#backlog = new InboundBacklog(options.maxBacklogBytes ?? 64 * 1024, (paused) =>
      paused ? this.#socket.pause() : this.#socket.resume(),
    );
    this.#rawSocket = options.rawSocket;
  }

  /** True while frames wait because this connection or its client is at its budget. */
  get paused(): boolean {
    return this.#backlog.size > 0;
  }

  /** True while the socket is not read (the backlog is full). */
  get readPaused(): boolean {
    return this.#backlog.readPaused;
  }

  /** The connection's current token (replaced by a successful renewal). */
  get authInfo(): AuthInfo {
    return this.#authInfo;
  }

  /** True once the token's `exp` has passed. */
  get expired(): boolean {
    const exp = this.#authInfo.expiresAt;
    return exp !== undefined && this.#now() >= exp * 1000;
  }

  /**
   * Whether a pong missing since `pingSentAt` (ms, `now`) is excused: slow, not dead. Yes when a
   * frame arrived since then (the peer is sending: its pong may wait behind our frames in the
   * network), when a write completed since then (the peer consumes what is sent), or when the
   * socket is not read and nothing waits to be written (the connection waits on its own calls or
   * its client's budget, and pongs are not read meanwhile). A peer that does none of these for a
   * whole interval is dead.
   */
  excusesMissedPong(pingSentAt: number): boolean {
    if (this.#lastFrameAt >= pingSentAt || this.#lastWriteAt >= pingSentAt) return true;
    return this.readPaused && this.#account.held === 0;
  }

  /** Starts listening; the SDK calls this from `connect()`. @throws Error on a second call. */
  async start(): Promise<void> {
    if (this.#started) throw new Error('WsServerTransport already started');
    this.#started = true;
    this.#socket.on('message', this.#onFrame);
    this.#socket.on('close', this.#onClose);
    this.#socket.on('error', this.#onError);
    this.#expiry.arm(this.#authInfo.expiresAt);
    if (this.#socket.readyState !== WebSocket.OPEN) this.#finish();
  }

  /**
   * Queues one message as a text frame; resolves once queued (its bytes stay counted until the
   * write completes). @throws Error when the socket is closed or the token expired.
   */
  send(message: JSONRPCMessage): Promise<void> {
    return this.#send(message, undefined);
  }

  /** {@link send}, with the message's frame when the caller already made it (`JSON.stringify(message)`). */
  reply(message: JSONRPCMessage, frame?: string): Promise<void> {
    return this.#send(message, frame);
  }

  async #send(message: JSONRPCMessage, frame: string | undefined): Promise<void> {
    if ('id' in message && ('result' in message || 'error' in message)) this.#account.end(idKey(message.id));
    if (this.expired) {
      this.#expire();
      throw new Error('token expired: not sending');
    }
    if (this.#closing || this.#socket.readyState !== WebSocket.OPEN) throw new Error('WebSocket is not open');
    this.#write(frame ?? encodeFrame(message));
    this.#pump();
  }

  /** Closes with 1000 (normal closure). */
  async close(): Promise<void> {
    this.closeWith(CloseCode.NORMAL, 'closing');
  }

  /** Closes the socket with a code and reason; `onclose` fires once the close completes. */
  closeWith(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#expiry.clear();
    if (this.#socket.readyState === WebSocket.OPEN || this.#socket.readyState === WebSocket.CONNECTING) {
      this.#socket.close(code, reason);
    } else {
      this.#finish();
    }
  }

  /**
   * Serves waiting frames in order while the budgets allow: a request that must wait stops the
   * loop (a send, a completed write or the client's budget opening pumps again).
   */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (let next = this.#backlog.peek(); next !== undefined && !this.#closing; next = this.#backlog.peek()) {
        if (this.expired) {
          this.#expire();
          return;
        }
        next.decoded ??= decodeFrame(next.data, next.isBinary);
        const decoded = next.decoded;
        const msg = (decoded.ok ? decoded.message : {}) as RequestLike;
        const isRequest = typeof msg.method === 'string' && msg.id !== undefined;
        const decision = this.#account.start(isRequest ? idKey(msg.id) : undefined);
        if (decision === 'wait') return;
        this.#backlog.shift();
        if (decision === 'duplicate') {
          this.#writeError(msg.id as string | number, -32600, 'Invalid Request: a request with this id is in flight');
        } else this.#dispatch(next, decoded);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #dispatch(frame: RawFrame, decoded: DecodedFrame): void {
    if (decoded.ok) {
      const msg = decoded.message as RequestLike;
      // A cancelled request gets no response: stop counting it.
      if (msg.method === 'notifications/cancelled') {
        this.#account.end(idKey(msg.params?.requestId));
        this.direct?.cancel(msg.params?.requestId);
      }
      if (msg.method === RENEW_METHOD && this.#renewer !== undefined && msg.id !== undefined) {
        this.#renew(msg as RenewRequest, this.#renewer);
        return;
      }
      if (this.direct?.take(decoded.message, this.#authInfo, this.#reply)) return;
      this.onmessage?.(decoded.message, { authInfo: this.#authInfo });
      return;
    }
    if (decoded.reason === 'binary') {
      this.closeWith(CloseCode.UNSUPPORTED_DATA, 'binary frames are not accepted');
      return;
    }
    this.onerror?.(new Error(`${decoded.reason === 'parse' ? 'Parse error' : 'Invalid Request'} (${decoded.detail})`));
    if (decoded.reason === 'parse') this.#writeError(null, -32700, 'Parse error: the frame is not valid JSON');
    else {
      const id = readableIdOfText(frameText(frame.data));
      this.#writeError(id, -32600, 'Invalid Request: the frame is not a JSON-RPC 2.0 message');
    }
  }

  /** Written directly: the SDK's message type does not allow the null id JSON-RPC requires for unreadable ids. */
  #writeError(id: ResponseId, code: number, message: string): void {
    if (this.#closing || this.#socket.readyState !== WebSocket.OPEN) return;
    this.#write(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }));
  }

  /** Sends a text frame, holding its bytes in the budgets until the write completes. */
  #write(frame: string): void {
    // A Buffer made once: a string would be measured again by ws and copied again by the socket.
    const payload = Buffer.from(frame);
    const chunk = this.#pins.chunkOf(payload);
    this.#account.hold(WRITE_OVERHEAD + (chunk === undefined ? payload.length : chunk.add()));
    if (payload.length <= COALESCE_MAX_BYTES) this.#coalesce();
    this.#socket.send(payload, { binary: false }, () => {
      this.#lastWriteAt = this.#now();
      this.#account.release(WRITE_OVERHEAD + (chunk === undefined ? payload.length : chunk.remove()));
      this.#pump();
    });
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

  /** Answers `auth/renew`; calls in flight go on meanwhile, under the token they started with. */
  #renew(request: RenewRequest, renewer: Renewer): void {
    renewer
      .renew(request.params?.token, this.#authInfo)
      .then((outcome) => {
        if (this.#closing) return;
        if (outcome.ok) {
          this.#authInfo = outcome.authInfo;
          this.#expiry.arm(outcome.authInfo.expiresAt);
        }
        return this.send(renewalResponse(request, outcome));
      })
      .catch((err: unknown) => this.onerror?.(err as Error));
  }

  #expire(): void {
    this.closeWith(CloseCode.TOKEN_EXPIRED, 'token expired');
  }

  /** The socket closed: give back everything this connection held in its client's budget. */
  #finish(): void {
    if (this.#closed) return;
    this.#closing = true;
    this.#closed = true;
    this.#expiry.clear();
    this.#backlog.clear();
    this.#account.settle();
    this.direct?.close();
    this.onclose?.();
    this.#detach();
  }

  /**
   * Takes this transport's listeners off the closed socket. A closed WebSocket and its socket
   * outlive young collections until a full one (measured in a bare `ws` server too: not ours to
   * change), and everything a listener reaches would stay with them: every closed connection's
   * session was copied by each young collection after it (tests/unit/server/ws-closed-release.test.ts).
   */
  #detach(): void {
    this.#socket.off('message', this.#onFrame);
    this.#socket.off('close', this.#onClose);
    this.#socket.off('error', this.#onError);
    // ws emits nothing after 'close'; an 'error' without a listener would throw.
    this.#socket.on('error', ignoreError);
  }
}

function frameText(data: RawFrame['data']): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
}
