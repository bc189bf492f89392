import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolResult,
  ErrorCode,
  type Implementation,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { TokenSource } from './auth/token-source.ts';
import { ClientError, isClientError } from './errors.ts';
import {
  backoffDelayMs,
  isReconnectableClose,
  isRetryableConnectError,
  needsFreshToken,
  type ReconnectOptions,
  type ReconnectPolicy,
  reconnectPolicy,
} from './reconnect.ts';
import { createHttpClientTransport, isHttpUrl } from './transport/http-client-transport.ts';
import { type CloseInfo, WsClientTransport } from './transport/ws-client-transport.ts';

/** Options of {@link ResilientClient.connect}. */
export interface ResilientClientOptions {
  /** `ws://`/`wss://` (WebSocket) or `http://`/`https://` (Streamable HTTP) URL of the MCP server. */
  readonly url: string | URL;
  readonly tokenSource: TokenSource;
  /** Backoff and attempt bound for reconnects; defaults as in {@link ReconnectOptions}. */
  readonly reconnect?: ReconnectOptions | undefined;
  /** `clientInfo` sent in `initialize`. Default `{ name: 'mcp-client', version: '0.1.0' }`. */
  readonly clientInfo?: Implementation | undefined;
  /** Time allowed for TCP connect + upgrade, in ms. Default 10000. */
  readonly handshakeTimeoutMs?: number | undefined;
  /** Timeout of each request (initialize, tools/list, tools/call), in ms. Default 60000. */
  readonly requestTimeoutMs?: number | undefined;
  /** Observer of connection events (for logs); must not throw. */
  readonly onEvent?: ((event: SessionEvent) => void) | undefined;
}

/** Connection lifecycle events reported to {@link ResilientClientOptions.onEvent}. */
export type SessionEvent =
  | { readonly type: 'disconnected'; readonly code: number; readonly reason: string }
  | { readonly type: 'reconnecting'; readonly attempt: number; readonly delayMs: number; readonly freshToken: boolean }
  | { readonly type: 'reconnect_failed'; readonly attempt: number; readonly error: Error }
  | { readonly type: 'reconnected'; readonly attempt: number };

interface Connection {
  readonly client: Client;
  /** A WebSocket transport reports its close code; Streamable HTTP has none. */
  readonly transport: Transport & { readonly closeInfo?: CloseInfo | undefined };
  /** Settles when this connection has closed. */
  readonly closed: Promise<void>;
}

/**
 * An MCP client that survives dropped connections. On a close with a reconnectable code
 * (1001, 1006, 1011, 1013, 4401) it reconnects with exponential backoff and full jitter, fetching
 * a fresh token after 4401, re-initializes, and re-sends the calls that were in flight (the file
 * tools are read-only, so a repeat is harmless). After the attempt bound, calls fail with
 * `reconnect_exhausted`.
 */
export class ResilientClient {
  readonly #opts: ResilientClientOptions;
  readonly #policy: ReconnectPolicy;
  readonly #stop = new AbortController();
  #conn: Connection | undefined;
  #reconnecting: Promise<void> | undefined;
  #failure: ClientError | undefined;
  #protocolVersion: string | undefined;

  private constructor(options: ResilientClientOptions) {
    this.#opts = options;
    this.#policy = reconnectPolicy(options.reconnect);
  }

  /**
   * Connects and initializes. A 401 is retried once with a freshly fetched token.
   * @throws ClientError from the token source, or `upgrade_refused`, `insufficient_scope`, `connect_failed`, `protocol`.
   */
  static async connect(options: ResilientClientOptions): Promise<ResilientClient> {
    const rc = new ResilientClient(options);
    try {
      await rc.#connectOnce(false);
    } catch (err) {
      if (!(isClientError(err, 'upgrade_refused') && err.status === 401 && options.tokenSource.refreshable)) throw err;
      await rc.#connectOnce(true);
    }
    return rc;
  }

  /** The server's `serverInfo` from the latest `initialize`. */
  get serverInfo(): Implementation | undefined {
    return this.#conn?.client.getServerVersion();
  }

  /** The protocol revision negotiated in the latest `initialize`. */
  get protocolVersion(): string | undefined {
    return this.#protocolVersion;
  }

  /** The server's `instructions`, if it sent any. */
  get instructions(): string | undefined {
    return this.#conn?.client.getInstructions();
  }

  /** Lists every tool the token may call, following `nextCursor`. */
  async listTools(): Promise<Tool[]> {
    return this.#run(async (client) => {
      const tools: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor }, this.#requestOptions());
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return tools;
    });
  }

  /**
   * Calls a tool and resolves to its result, `isError` results included (see `toolFailure`).
   * Re-sent after a reconnect if the connection dropped while it was in flight.
   */
  async callTool(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
    return this.#run(
      async (client) =>
        (await client.callTool({ name, arguments: args }, undefined, this.#requestOptions())) as CallToolResult,
    );
  }

  /** Closes the connection (code 1000) and stops any reconnect in progress. Idempotent. */
  async close(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    const conn = this.#conn;
    this.#conn = undefined;
    await conn?.client.close();
  }

  #requestOptions(): { timeout?: number } {
    return this.#opts.requestTimeoutMs === undefined ? {} : { timeout: this.#opts.requestTimeoutMs };
  }

  async #run<T>(op: (client: Client) => Promise<T>): Promise<T> {
    for (;;) {
      const conn = await this.#ready();
      try {
        return await op(conn.client);
      } catch (err) {
        if (this.#stop.signal.aborted || !isConnectionLoss(err)) throw err;
        // The socket may still be closing (send failed first): wait for its close to be handled.
        await conn.closed;
      }
    }
  }

  async #ready(): Promise<Connection> {
    for (;;) {
      if (this.#stop.signal.aborted) throw new ClientError('connect_failed', 'the client was closed');
      if (this.#conn) return this.#conn;
      if (this.#reconnecting) {
        await this.#reconnecting.catch(() => undefined);
        continue;
      }
      throw this.#failure ?? new ClientError('connect_failed', 'not connected');
    }
  }

  async #connectOnce(forceRefresh: boolean): Promise<void> {
    const { tokenSource } = this.#opts;
    const token = await tokenSource.getToken({ forceRefresh });
    const transport: Connection['transport'] = isHttpUrl(this.#opts.url)
      ? createHttpClientTransport({ url: this.#opts.url, token, tokenSource })
      : new WsClientTransport({
          url: this.#opts.url,
          token,
          clientId: tokenSource.clientId,
          handshakeTimeoutMs: this.#opts.handshakeTimeoutMs,
        });
    // Keep the transport's own hook (Streamable HTTP sends MCP-Protocol-Version with it).
    const ownHook = transport.setProtocolVersion?.bind(transport);
    transport.setProtocolVersion = (v) => {
      ownHook?.(v);
      this.#protocolVersion = v;
    };
    const client = new Client(this.#opts.clientInfo ?? { name: 'mcp-client', version: '0.1.0' }, { capabilities: {} });
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const conn: Connection = { client, transport, closed };
    client.onclose = () => {
      markClosed();
      this.#onClose(conn);
    };
    client.onerror = () => undefined; // bad frames are reported per request; nothing to do here
    try {
      await client.connect(transport, this.#requestOptions());
    } catch (err) {
      markClosed();
      await transport.close().catch(() => undefined);
      if (isClientError(err) && err.challenge) tokenSource.onChallenge?.(err.challenge);
      throw mapInitializeError(err, String(this.#opts.url), transport.closeInfo);
    }
    if (this.#stop.signal.aborted) {
      await client.close();
      throw new ClientError('connect_failed', 'the client was closed');
    }
    this.#conn = conn;
  }

  #onClose(conn: Connection): void {
    if (this.#conn !== conn || this.#stop.signal.aborted) return;
    this.#conn = undefined;
    const info = conn.transport.closeInfo ?? { code: 1006, reason: '' };
    this.#opts.onEvent?.({ type: 'disconnected', code: info.code, reason: info.reason });
    if (!isReconnectableClose(info.code) || this.#policy.maxAttempts === 0) {
      this.#failure = new ClientError('connect_failed', `the server closed the connection (${describeClose(info)})`, {
        closeCode: info.code,
      });
      return;
    }
    const loop = this.#reconnectLoop(info).finally(() => {
      this.#reconnecting = undefined;
    });
    loop.catch(() => undefined);
    this.#reconnecting = loop;
  }

  async #reconnectLoop(info: CloseInfo): Promise<void> {
    let freshToken = needsFreshToken(info.code);
    let last: unknown;
    for (let attempt = 1; attempt <= this.#policy.maxAttempts; attempt++) {
      const delayMs = backoffDelayMs(attempt, this.#policy);
      this.#opts.onEvent?.({ type: 'reconnecting', attempt, delayMs, freshToken });
      await sleep(delayMs, this.#stop.signal);
      if (this.#stop.signal.aborted) throw new ClientError('connect_failed', 'the client was closed');
      try {
        await this.#connectOnce(freshToken);
        this.#opts.onEvent?.({ type: 'reconnected', attempt });
        return;
      } catch (err) {
        last = err;
        this.#opts.onEvent?.({ type: 'reconnect_failed', attempt, error: err as Error });
        if (!isRetryableConnectError(err)) {
          this.#failure = isClientError(err) ? err : new ClientError('protocol', String(err), { cause: err });
          throw this.#failure;
        }
        if (isClientError(err, 'upgrade_refused')) freshToken = true;
      }
    }
    const lastMessage = last instanceof Error ? last.message : 'no attempt was made';
    this.#failure = new ClientError(
      'reconnect_exhausted',
      `lost the connection to ${this.#opts.url} (${describeClose(info)}) and ${this.#policy.maxAttempts} ` +
        `reconnect attempts failed; last error: ${lastMessage}`,
      { cause: last, closeCode: info.code },
    );
    throw this.#failure;
  }
}

function isConnectionLoss(err: unknown): boolean {
  if (err instanceof McpError) return err.code === ErrorCode.ConnectionClosed;
  if (isClientError(err, 'connect_failed')) return true;
  return err instanceof Error && err.message === 'Not connected';
}

function describeClose(info: CloseInfo): string {
  return info.reason ? `close code ${info.code}: ${info.reason}` : `close code ${info.code}`;
}

function mapInitializeError(err: unknown, url: string, close: CloseInfo | undefined): ClientError {
  if (isClientError(err)) return err;
  if (isConnectionLoss(err)) {
    return new ClientError(
      'connect_failed',
      `the server at ${url} closed the connection during initialize${close ? ` (${describeClose(close)})` : ''}`,
      { cause: err, ...(close ? { closeCode: close.code } : {}) },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ClientError('protocol', `initialize with ${url} failed: ${message}`, { cause: err });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
