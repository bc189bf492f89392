import type { IncomingMessage } from 'node:http';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import { CloseCode, decodeFrame, encodeFrame, MCP_SUBPROTOCOL } from 'mcp-ws-common';
import WebSocket from 'ws';
import { describeFailure } from '../auth/client-credentials.ts';
import { ClientError } from '../errors.ts';
import { errorFromRefusedUpgrade } from './upgrade-refusal.ts';

/** Options of {@link WsClientTransport}. */
export interface WsClientTransportOptions {
  /** `ws://` or `wss://` URL of the MCP endpoint. */
  readonly url: string | URL;
  /** Bearer token sent in the `Authorization` header of the upgrade request; none when undefined. */
  readonly token?: string | undefined;
  /** OAuth client id, only for advice in error messages. */
  readonly clientId?: string | undefined;
  /** Time allowed for TCP connect + upgrade, in ms. Default 10000. */
  readonly handshakeTimeoutMs?: number | undefined;
  /** Largest incoming message, in bytes. Default 16 MiB. */
  readonly maxPayloadBytes?: number | undefined;
  /**
   * Send a WebSocket ping this often, in ms; 0 turns pings off. Default 15000. With
   * `pingTimeoutMs`, a server that stopped answering (crashed host, silently dropped network
   * path) is detected within `pingIntervalMs + pingTimeoutMs` and the socket closed with 1006.
   */
  readonly pingIntervalMs?: number | undefined;
  /** How long to wait for the pong (or any message) after a ping, in ms. Default 10000. */
  readonly pingTimeoutMs?: number | undefined;
}

/** Defaults of the client-side liveness check (see {@link WsClientTransportOptions}). */
export const PING_DEFAULTS = { intervalMs: 15_000, timeoutMs: 10_000 } as const;

/** How the WebSocket ended. `code` 1006 means no close frame arrived (crash or network drop). */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

const MAX_REFUSAL_BODY = 8 * 1024;

/**
 * MCP SDK {@link Transport} over the `ws` package: subprotocol `mcp`, one JSON-RPC message per
 * text frame, bearer token in the upgrade request. A refused upgrade rejects `start()` with a
 * {@link ClientError} carrying the HTTP status and the parsed `WWW-Authenticate` challenge.
 * After `onclose`, {@link WsClientTransport.closeInfo} holds the close code and reason.
 */
export class WsClientTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  /** Called by the SDK with the negotiated protocol revision after `initialize`. */
  setProtocolVersion?: ((version: string) => void) | undefined;
  readonly #opts: WsClientTransportOptions;
  #socket: WebSocket | undefined;
  #closeInfo: CloseInfo | undefined;
  /** Set when the liveness check gave the server up, so the close says why. */
  #deadReason: string | undefined;

  constructor(options: WsClientTransportOptions) {
    this.#opts = options;
  }

  /** The close code and reason, once the socket closed. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  /**
   * Opens the WebSocket.
   * @throws ClientError `upgrade_refused`/`insufficient_scope` (401/403), `connect_failed` otherwise.
   */
  start(): Promise<void> {
    if (this.#socket) throw new Error('WsClientTransport already started');
    const url = String(this.#opts.url);
    const headers: Record<string, string> = {};
    if (this.#opts.token !== undefined) headers.authorization = `Bearer ${this.#opts.token}`;
    const socket = new WebSocket(url, [MCP_SUBPROTOCOL], {
      headers,
      handshakeTimeout: this.#opts.handshakeTimeoutMs ?? 10_000,
      maxPayload: this.#opts.maxPayloadBytes ?? 16 * 1024 * 1024,
    });
    this.#socket = socket;

    return new Promise<void>((resolve, reject) => {
      let opened = false;
      socket.on('unexpected-response', (req, res: IncomingMessage) => {
        readBody(res).then((body) => {
          req.destroy();
          reject(
            errorFromRefusedUpgrade({
              url,
              status: res.statusCode ?? 0,
              wwwAuthenticate: res.headers['www-authenticate'],
              body,
              clientId: this.#opts.clientId,
            }),
          );
        });
      });
      socket.on('open', () => {
        opened = true;
        this.#watchLiveness(socket);
        resolve();
      });
      socket.on('error', (err) => {
        if (!opened) {
          reject(new ClientError('connect_failed', connectFailure(url, err), { cause: err }));
          return;
        }
        this.onerror?.(err);
      });
      socket.on('message', (data, isBinary) => {
        const decoded = decodeFrame(data as Buffer, isBinary);
        if (decoded.ok) {
          this.onmessage?.(decoded.message);
          return;
        }
        this.onerror?.(new ClientError('protocol', `bad frame from the server (${decoded.reason}): ${decoded.detail}`));
        if (decoded.reason === 'binary') socket.close(CloseCode.UNSUPPORTED_DATA, 'text frames only');
      });
      socket.on('close', (code, reason) => {
        this.#closeInfo = this.#deadReason
          ? { code: 1006, reason: this.#deadReason } // terminated without a close frame
          : { code, reason: reason.toString('utf8') };
        if (opened) this.onclose?.();
      });
    });
  }

  /** Sends one message as one text frame; rejects with `connect_failed` when the socket is not open. */
  send(message: JSONRPCMessage): Promise<void> {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new ClientError('connect_failed', 'the WebSocket is not open', { unsent: true }));
    }
    return new Promise((resolve, reject) => {
      socket.send(encodeFrame(message), (err) => {
        if (err) reject(new ClientError('connect_failed', `send failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  /**
   * Pings every `pingIntervalMs`; a ping left without pong (or any message) for `pingTimeoutMs`
   * terminates the socket. A silently dead path never delivers a close frame nor a TCP reset, so
   * without this the SDK would wait for each request's own timeout.
   */
  #watchLiveness(socket: WebSocket): void {
    const intervalMs = this.#opts.pingIntervalMs ?? PING_DEFAULTS.intervalMs;
    const timeoutMs = this.#opts.pingTimeoutMs ?? PING_DEFAULTS.timeoutMs;
    if (intervalMs === 0) return;
    let deadline: NodeJS.Timeout | undefined;
    const alive = (): void => {
      clearTimeout(deadline);
      deadline = undefined;
    };
    const ticker = setInterval(() => {
      if (deadline !== undefined || socket.readyState !== WebSocket.OPEN) return;
      socket.ping();
      deadline = setTimeout(() => {
        this.#deadReason = `no pong from the server within ${timeoutMs} ms`;
        socket.terminate();
      }, timeoutMs);
    }, intervalMs);
    ticker.unref();
    socket.on('pong', alive);
    socket.on('message', alive);
    socket.once('close', () => {
      clearInterval(ticker);
      alive();
    });
  }

  /** Closes with 1000 and resolves once the socket has closed (or at once if it never opened). */
  async close(): Promise<void> {
    const socket = this.#socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(CloseCode.NORMAL);
      // A peer that never answers the close frame must not hang us.
      setTimeout(() => {
        socket.terminate();
        resolve();
      }, 2_000).unref();
    });
  }
}

function connectFailure(url: string, err: Error): string {
  const reason = describeFailure(err);
  if (reason.includes('ECONNREFUSED')) return `connection refused at ${url}: is the server running?`;
  if (reason === 'ENOTFOUND' || reason === 'EAI_AGAIN') return `cannot resolve the host of ${url}: check SERVER_URL`;
  if (/timed out|timeout/i.test(reason)) return `no WebSocket handshake from ${url} in time: is the server reachable?`;
  return `cannot connect to ${url}: ${reason}`;
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => resolve(Buffer.concat(chunks).toString('utf8'));
    res.on('data', (chunk: Buffer) => {
      if (size < MAX_REFUSAL_BODY) chunks.push(chunk.subarray(0, MAX_REFUSAL_BODY - size));
      size += chunk.length;
      if (size >= MAX_REFUSAL_BODY) done();
    });
    res.on('end', done);
    res.on('error', done);
    setTimeout(done, 2_000).unref();
  });
}
