import {
  type CallToolResult,
  type Client,
  DEFAULT_REQUEST_TIMEOUT_MSEC,
  type Implementation,
  type Tool,
} from '@modelcontextprotocol/client';
import {
  DEFAULT_CALL_MAX_ATTEMPTS,
  describeClose,
  interruptionOf,
  isRepeatable,
  isRequestTimeout,
  outcomeUnknown,
  requestTimedOut,
  resendExhausted,
} from './call-failure.ts';
import { type Connection, openConnection } from './connection.ts';
import { ClientError, isClientError } from './errors.ts';
import { DEFAULT_PROTOCOL } from './protocol-era.ts';
import {
  accessWithdrawn,
  backoffDelayMs,
  isReconnectableClose,
  isRetryableConnectError,
  isRevocationClose,
  needsFreshToken,
  type ReconnectPolicy,
  reconnectPolicy,
  sleep,
} from './reconnect.ts';
import type { ResilientClientOptions } from './session-options.ts';
import { isHttpUrl } from './transport/http-client-transport.ts';
import type { CloseInfo } from './transport/ws-client-transport.ts';

export type { ResilientClientOptions, SessionEvent } from './session-options.ts';

/** Two revocation closes this close together stop the client (the fresh token was withdrawn too). */
const REVOKED_AGAIN_MS = 60_000;

/**
 * An MCP client that survives dropped connections. On a close with a reconnectable code
 * (1001, 1006, 1011, 1013, 4401) it reconnects with exponential backoff and full jitter, fetching
 * a fresh token after 4401, and negotiates again (a 2025-era session is re-initialized; the
 * stateless 2026-07-28 era has nothing to restore). Over WebSocket the token is renewed in-band
 * (`auth/renew`, see TokenRenewal) ahead of its `exp`, so the connection does not drop; against
 * a server without renewal the connection ends at `exp` (4401) and is reconnected as above. A call that was in flight is re-sent only when
 * that is safe: it never reached the server, or the tool's annotations (tools/list) say
 * `readOnlyHint` or `idempotentHint`; at most `callMaxAttempts` sends, with backoff between them,
 * then `resend_exhausted`. Any other interrupted call fails with `outcome_unknown` (it may or may
 * not have run). After the reconnect bound, calls fail with `reconnect_exhausted`.
 */
export class ResilientClient {
  readonly #opts: ResilientClientOptions;
  readonly #policy: ReconnectPolicy;
  readonly #stop = new AbortController();
  #conn: Connection | undefined;
  #reconnecting: Promise<void> | undefined;
  #failure: ClientError | undefined;
  /** When the server last closed for revocation (4403). */
  #revokedAt: number | undefined;
  #protocolVersion: string | undefined;
  readonly #callMaxAttempts: number;
  /** Tool annotations from the latest tools/list, by tool name: what may be re-sent. */
  readonly #annotations = new Map<string, Tool['annotations']>();
  /** Connections (their SDK clients) whose tools/list the SDK holds. */
  readonly #listed = new WeakSet<Client>();

  private constructor(options: ResilientClientOptions) {
    this.#opts = options;
    this.#policy = reconnectPolicy(options.reconnect);
    this.#callMaxAttempts = options.callMaxAttempts ?? DEFAULT_CALL_MAX_ATTEMPTS;
    if (!Number.isInteger(this.#callMaxAttempts) || this.#callMaxAttempts < 1) {
      throw new TypeError('callMaxAttempts must be a whole number >= 1');
    }
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

  /** The server's `serverInfo` (from `initialize`, or `server/discover` when the server names itself). */
  get serverInfo(): Implementation | undefined {
    return this.#conn?.client.getServerVersion();
  }

  /** The protocol revision of the latest connection, e.g. `2026-07-28` or `2025-11-25`. */
  get protocolVersion(): string | undefined {
    return this.#protocolVersion;
  }

  /** The server's `instructions`, if it sent any. */
  get instructions(): string | undefined {
    return this.#conn?.client.getInstructions();
  }

  /** Lists every tool the token may call, following `nextCursor`; remembers their annotations. */
  async listTools(): Promise<Tool[]> {
    return this.#run(
      'tools/list',
      async () => true,
      (client) => this.#listOn(client),
    );
  }

  async #listOn(client: Client): Promise<Tool[]> {
    // Without a cursor the SDK follows nextCursor itself (at most 64 pages); 'refresh' asks the
    // server every time, since the answer decides what may be re-sent.
    const { tools } = await client.listTools(undefined, { ...this.#requestOptions(), cacheMode: 'refresh' });
    this.#listed.add(client);
    this.#annotations.clear();
    for (const t of tools) this.#annotations.set(t.name, t.annotations);
    return tools;
  }

  /**
   * Over Streamable HTTP in 2026-07-28 the SDK mirrors parameters a tool marks `x-mcp-header`
   * into `Mcp-Param-*` headers (SEP-2243), from the definitions tools/list gave on that
   * connection: list first on a connection that has not listed yet. Failing to list is reported
   * as a request that never left (the call was not sent).
   */
  async #defineToolsOn(client: Client): Promise<void> {
    if (this.#listed.has(client) || client.getProtocolEra() !== 'modern' || !isHttpUrl(this.#opts.url)) return;
    try {
      await this.#listOn(client);
    } catch (err) {
      if (interruptionOf(err) === undefined) throw err;
      throw new ClientError('connect_failed', 'the connection dropped while listing tools', {
        cause: err,
        unsent: true,
      });
    }
  }

  /**
   * Calls a tool and resolves to its result, `isError` results included (see `toolFailure`).
   * If the connection drops while it is in flight, it is re-sent after the reconnect only when
   * safe (see the class comment).
   * @throws ClientError `outcome_unknown`, `resend_exhausted`, `timeout`, `reconnect_exhausted`, `connect_failed`.
   */
  async callTool(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
    return this.#run(
      name,
      () => this.#isRepeatable(name),
      async (client) => {
        await this.#defineToolsOn(client);
        return client.callTool({ name, arguments: args }, this.#requestOptions());
      },
    );
  }

  /**
   * Closes the connection (code 1000), stops any reconnect in progress, and revokes the token
   * source's tokens (RFC 7009) when the issuer advertises a revocation endpoint. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    const conn = this.#conn;
    this.#conn = undefined;
    await conn?.client.close();
    // RFC 7009: tokens this client no longer needs stop working at once (when the issuer offers it).
    await this.#opts.tokenSource.revoke?.();
  }

  #requestOptions(): { timeout: number } {
    return { timeout: this.#timeoutMs() };
  }

  /**
   * Runs `op` on the current connection; after a lost connection, runs it again on the next one
   * when it never reached the server or `repeatable()` says so, at most `callMaxAttempts` times.
   */
  async #run<T>(what: string, repeatable: () => Promise<boolean>, op: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const conn = await this.#ready();
      try {
        return await op(conn.client);
      } catch (err) {
        if (this.#stop.signal.aborted) throw err;
        if (isRequestTimeout(err)) {
          conn.transport.abandon?.(`no answer within ${this.#timeoutMs()} ms`);
          throw requestTimedOut(what, this.#timeoutMs(), err);
        }
        const how = interruptionOf(err);
        if (how === undefined) throw err;
        // The socket may still be closing (send failed first): wait for its close to be handled.
        await conn.closed;
        if (how === 'in_doubt' && !(await repeatable())) throw outcomeUnknown(what, attempt, err);
        if (attempt >= this.#callMaxAttempts) throw resendExhausted(what, attempt, err);
        await sleep(backoffDelayMs(attempt, this.#policy), this.#stop.signal);
      }
    }
  }

  /**
   * Whether `tool` may be re-sent; learns the annotations from tools/list (on the new connection)
   * if it has none yet. A connection that cannot be restored fails the call with that reason.
   */
  async #isRepeatable(tool: string): Promise<boolean> {
    if (!this.#annotations.has(tool)) {
      try {
        await this.listTools();
      } catch (err) {
        // The connection cannot be restored (e.g. the authorization server now refuses the
        // credentials): that is the call's failure, more useful than "may or may not have run".
        if (isClientError(err, 'connect_failed', 'reconnect_exhausted', 'auth_refused')) throw err;
        return false; // cannot tell: treat as unsafe
      }
    }
    return isRepeatable(this.#annotations.get(tool));
  }

  #timeoutMs(): number {
    return this.#opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MSEC;
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
    const o = this.#opts;
    const conn = await openConnection({
      url: o.url,
      token: await o.tokenSource.getToken({ forceRefresh }),
      tokenSource: o.tokenSource,
      clientInfo: o.clientInfo ?? { name: 'mcp-client', version: '0.1.0' },
      protocol: o.protocol ?? DEFAULT_PROTOCOL,
      requestTimeoutMs: this.#timeoutMs(),
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      pingIntervalMs: o.pingIntervalMs,
      pingTimeoutMs: o.pingTimeoutMs,
      onProtocolVersion: (v) => {
        this.#protocolVersion = v;
      },
      onClose: (c) => this.#onClose(c),
      onRenewal: o.onEvent,
    });
    if (this.#stop.signal.aborted) {
      await conn.client.close();
      throw new ClientError('connect_failed', 'the client was closed');
    }
    this.#conn = conn;
  }

  #onClose(conn: Connection): void {
    if (this.#conn !== conn || this.#stop.signal.aborted) return;
    this.#conn = undefined;
    const info = conn.transport.closeInfo ?? { code: 1006, reason: '' };
    this.#opts.onEvent?.({ type: 'disconnected', code: info.code, reason: info.reason });
    if (this.#revokedAgain(info.code)) return;
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

  /**
   * A second revocation close (4403) within REVOKED_AGAIN_MS of the first means the new token was
   * withdrawn too: stop instead of fetching token after token (no reconnect loop).
   */
  #revokedAgain(code: number): boolean {
    if (!isRevocationClose(code)) return false;
    const now = Date.now();
    const again = this.#revokedAt !== undefined && now - this.#revokedAt < REVOKED_AGAIN_MS;
    this.#revokedAt = now;
    if (again) {
      this.#failure = accessWithdrawn(
        new ClientError(
          'upgrade_refused',
          `the server withdrew the new token too, within ${REVOKED_AGAIN_MS / 1000} s`,
        ),
      );
    }
    return again;
  }

  async #reconnectLoop(info: CloseInfo): Promise<void> {
    let freshToken = needsFreshToken(info.code);
    const revoked = isRevocationClose(info.code);
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
        if (!isRetryableConnectError(err, revoked)) {
          // After a 4403 the one fresh token was refused: stop, no reconnect loop.
          if (revoked) this.#failure = accessWithdrawn(err);
          else this.#failure = isClientError(err) ? err : new ClientError('protocol', String(err), { cause: err });
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
