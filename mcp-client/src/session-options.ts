import type { Implementation } from '@modelcontextprotocol/client';
import type { TokenSource } from './auth/token-source.ts';
import type { ProtocolChoice } from './protocol-era.ts';
import type { ReconnectOptions } from './reconnect.ts';
import type { RenewalEvent } from './renewal.ts';

/** Options of {@link ResilientClient.connect}. */
export interface ResilientClientOptions {
  /** `ws://`/`wss://` (WebSocket) or `http://`/`https://` (Streamable HTTP) URL of the MCP server. */
  readonly url: string | URL;
  readonly tokenSource: TokenSource;
  /** Backoff and attempt bound for reconnects; defaults as in {@link ReconnectOptions}. */
  readonly reconnect?: ReconnectOptions | undefined;
  /** `clientInfo` sent in `initialize` or each request's `_meta`. Default `{ name: 'mcp-client', version: '0.1.0' }`. */
  readonly clientInfo?: Implementation | undefined;
  /**
   * MCP revision to speak: `auto` (default: 2026-07-28 when the server offers it, else
   * 2025-11-25), or one revision pinned. Each reconnect negotiates again.
   */
  readonly protocol?: ProtocolChoice | undefined;
  /** Time allowed for TCP connect + upgrade, in ms. Default 10000. */
  readonly handshakeTimeoutMs?: number | undefined;
  /**
   * Timeout of each request (server/discover, initialize, tools/list, tools/call, auth/renew), in ms. Default 60000. A request
   * without an answer in time fails with `timeout` and is not re-sent; over Streamable HTTP (no
   * pings) it also gives the session up, so the next request starts a new one.
   */
  readonly requestTimeoutMs?: number | undefined;
  /**
   * Sends of one read-only or idempotent call (tools/list included) whose connection keeps
   * dropping, the first included; then `resend_exhausted`. Default 3.
   */
  readonly callMaxAttempts?: number | undefined;
  /** WebSocket ping interval in ms (0: off). Default 15000. See `WsClientTransportOptions`. */
  readonly pingIntervalMs?: number | undefined;
  /** WebSocket pong deadline in ms. Default 10000. A dead server is detected within interval + timeout. */
  readonly pingTimeoutMs?: number | undefined;
  /** Observer of connection and token renewal events (for logs); must not throw. */
  readonly onEvent?: ((event: SessionEvent) => void) | undefined;
}

/** Connection lifecycle and renewal events reported to {@link ResilientClientOptions.onEvent}. */
export type SessionEvent =
  | { readonly type: 'disconnected'; readonly code: number; readonly reason: string }
  | { readonly type: 'reconnecting'; readonly attempt: number; readonly delayMs: number; readonly freshToken: boolean }
  | { readonly type: 'reconnect_failed'; readonly attempt: number; readonly error: Error }
  | { readonly type: 'reconnected'; readonly attempt: number }
  | RenewalEvent;
