import {
  type AuthInfo,
  type InboundClassificationOutcome,
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type MessageClassification,
  PerRequestHTTPServerTransport,
  type RequestId,
  type ServerContext,
  SUPPORTED_PROTOCOL_VERSIONS,
  type Transport,
  type TransportSendOptions,
} from '@modelcontextprotocol/server';
import type { Logger } from '../log.ts';
import type { Session } from './session.ts';

/** The revision a {@link ModernDispatch} serves. */
export const DISPATCH_REVISION = '2026-07-28';

/** A credential with no scopes: what the dispatch's server falls back to if a request came without one (never happens). */
const NO_CREDENTIAL: AuthInfo = { token: '', clientId: '', scopes: [] };

/** The methods the long-lived dispatch serves; every other 2026-07-28 request goes to an SDK entry. */
export const DISPATCHED_METHODS: ReadonlySet<string> = new Set(['tools/call', 'tools/list', 'server/discover']);

/**
 * The request when the SDK classified it as one this dispatch serves (a 2026-07-28 request of a
 * {@link DISPATCHED_METHODS} method), else undefined: the rule both transports route by.
 */
export function dispatchedRequest(outcome: InboundClassificationOutcome): JSONRPCRequest | undefined {
  if (outcome.kind !== 'modern' || outcome.messageKind !== 'request') return undefined;
  if (outcome.classification.revision !== DISPATCH_REVISION) return undefined;
  const request = outcome.message as JSONRPCRequest;
  return DISPATCHED_METHODS.has(request.method) ? request : undefined;
}

/** The SDK's MissingRequiredClientCapability code: the one handler error answered as a refusal (HTTP 400). */
const MISSING_CLIENT_CAPABILITY = -32021;

const CLASSIFICATION: MessageClassification = { era: 'modern', revision: DISPATCH_REVISION };

/** Where the answer to one request goes (the transport's side of one exchange). */
export interface ExchangeSink {
  /** A message the handler sends before its result (a progress notification), in order. */
  related(message: JSONRPCMessage): void;
  /**
   * The result or error, carrying the request's own id. `refused` is true for an error the
   * protocol layer answered before any handler ran (unknown method, ...) and for -32021: the
   * cases the SDK's per-request HTTP transport answers with its ladder status instead of 200.
   * `frame` is `JSON.stringify(message)` when the direct path already made it.
   */
  settle(message: JSONRPCMessage, refused: boolean, frame?: string): void;
  /** The dispatch closed (shutdown) before the request was answered. */
  abandon(): void;
}

/** One request in flight. */
export interface Exchange {
  /** Stops waiting for the answer (the client went away): the handler's signal aborts, nothing is sent. */
  cancel(reason: string): void;
}

/** Options of {@link createModernDispatch}. */
export interface ModernDispatchOptions {
  /**
   * Builds the one McpServer every request is dispatched to (and its direct path for tool calls).
   * It must list {@link DISPATCH_REVISION} in its supported protocol versions, and take each
   * request's token from `ctx.http.authInfo` and its audit logger from `logger(ctx)`.
   */
  createServer(logger: (ctx: ServerContext) => Logger): Session;
  /** Logger for lines of a request no longer tracked (answered or cancelled while its handler ran). */
  logger: Logger;
  /** Told of errors the protocol layer reports out of band (reporting only). Default none. */
  onerror?: (error: Error) => void;
}

/** A long-lived dispatch of 2026-07-28 requests. */
export interface ModernDispatch {
  /**
   * Dispatches one request (its envelope already validated by the caller's entry) under `authInfo`,
   * its audit lines to `logger`; the answer goes to `sink`.
   */
  dispatch(request: JSONRPCRequest, authInfo: AuthInfo, logger: Logger, sink: ExchangeSink): Exchange;
  /**
   * Serves `message` when the dispatch's direct path takes it as it is (a `tools/call` with an
   * envelope the SDK accepted before: mcp/direct-tool-calls.ts), with no classification first:
   * what it takes, the SDK's entry would classify as a 2026-07-28 request and dispatch unchanged.
   * Undefined when not taken (classify it, then {@link dispatch} it).
   */
  take(message: unknown, authInfo: AuthInfo, logger: Logger, sink: ExchangeSink): Exchange | undefined;
  /** Closes the server: handlers in flight are aborted, their sinks abandoned. */
  close(): Promise<void>;
}

interface Pending {
  readonly originalId: RequestId;
  readonly logger: Logger;
  readonly sink: ExchangeSink;
  /** True while the request is delivered to the protocol layer (synchronously, before any handler runs). */
  inWindow: boolean;
}

/**
 * The exchanges of one shared server, by the ids the dispatch assigns: the protocol layer's
 * outbound messages are routed here, whatever channel class carries them.
 */
class ExchangeTable {
  readonly pending = new Map<number, Pending>();
  #closed = false;

  route(message: JSONRPCMessage, options?: TransportSendOptions): void {
    // The protocol layer built the message: its shape is known, so no schema check (the SDK's
    // isJSONRPCResultResponse parses the whole result, file contents included).
    if ('result' in message || 'error' in message) {
      const id = message.id as number;
      const p = this.pending.get(id);
      if (p === undefined) return;
      this.pending.delete(id);
      const code = 'error' in message ? (message as JSONRPCErrorResponse).error.code : undefined;
      const refused = code !== undefined && (p.inWindow || code === MISSING_CLIENT_CAPABILITY);
      p.sink.settle({ ...message, id: p.originalId }, refused);
      return;
    }
    // A message about a request goes to that request's exchange; there is no other stream.
    const related = options?.relatedRequestId;
    if (related !== undefined) this.pending.get(related as number)?.sink.related(message);
  }

  /** Abandons every exchange once; `onclose` tells the protocol layer first. */
  close(onclose: (() => void) | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    const abandoned = [...this.pending.values()];
    this.pending.clear();
    onclose?.();
    for (const p of abandoned) p.sink.abandon();
  }
}

/** What the dispatch needs of its channel: the table and how a request is delivered. */
interface DispatchChannel extends Transport {
  readonly table: ExchangeTable;
}

/**
 * The 2026-07-28 channel. It is the SDK's per-request HTTP transport by type only: connecting a
 * Server to one built for 2026-07-28 is how the SDK binds an instance to that revision
 * (`Server.connect`), without reaching into its internals. Every method the protocol layer calls
 * is overridden.
 */
class ModernChannel extends PerRequestHTTPServerTransport implements DispatchChannel {
  readonly table = new ExchangeTable();

  constructor() {
    super({ classification: CLASSIFICATION });
  }

  override async start(): Promise<void> {}

  override async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    this.table.route(message, options);
  }

  override async close(): Promise<void> {
    this.table.close(this.onclose);
  }
}

/** The 2025-era channel: a plain transport, so the server negotiates by `initialize` as over any socket. */
class LegacyChannel implements DispatchChannel {
  readonly table = new ExchangeTable();
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: Transport['onmessage'];

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    this.table.route(message, options);
  }

  async close(): Promise<void> {
    this.table.close(this.onclose);
  }
}

/**
 * One McpServer, bound to 2026-07-28 and built once, serving the requests of every client: the
 * revision is stateless (no session, the client's capabilities and version in each request's
 * `_meta`), so building a server per request (what the SDK's `createMcpHandler` does) buys
 * nothing but its cost. What stays per request is kept per exchange, never on the server: the
 * token (`ctx.http.authInfo`), the audit logger, and the id. Each request gets an id of the
 * dispatch's own while it is in flight, so two clients using the same JSON-RPC id never meet
 * (answers are routed by that id and carry the client's own id back: CVE-2026-25536 was answers
 * crossing clients on a shared instance). The SDK's protocol layer still validates each
 * request's envelope and params, runs the handler and encodes the result (`resultType`,
 * `serverInfo`), except for tool calls its direct path takes (mcp/direct-tool-calls.ts: an
 * envelope the SDK already accepted, valid arguments), which answer the same bytes without it.
 */
export function createModernDispatch(options: ModernDispatchOptions): ModernDispatch {
  return sharedDispatch(new ModernChannel(), CLASSIFICATION, options);
}

/** The id of the `initialize` that binds a 2025-era dispatch's server to its version (the dispatch's own ids start at 1). */
const BINDING_ID = 0;

/**
 * {@link createModernDispatch} for a 2025-era revision, `version`: one McpServer, bound to it by
 * an `initialize` of the dispatch's own (answer dropped), serving the requests of every
 * connection that negotiated that version. What a 2025-era server keeps of a connection's
 * `initialize` besides the version (the client's capabilities and info) serves only requests
 * sent to the client (sampling, elicitation, roots), which this server never sends; the entry
 * (mcp/connection-entry.ts) gives a connection a server of its own for anything else.
 */
export function createLegacyDispatch(options: ModernDispatchOptions, version: string): ModernDispatch {
  const channel = new LegacyChannel();
  const dispatch = sharedDispatch(channel, undefined, options);
  channel.onmessage?.({
    jsonrpc: '2.0',
    id: BINDING_ID,
    method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'shared-dispatch', version: '0' } },
  });
  return dispatch;
}

function sharedDispatch(
  channel: DispatchChannel,
  classification: MessageClassification | undefined,
  options: ModernDispatchOptions,
): ModernDispatch {
  const extra = (authInfo?: AuthInfo) => ({ ...(authInfo && { authInfo }), ...(classification && { classification }) });
  let nextId = BINDING_ID;
  const { server, direct } = options.createServer(
    (ctx) => channel.table.pending.get(ctx.mcpReq.id as number)?.logger ?? options.logger,
  );
  if (options.onerror) server.server.onerror = options.onerror;
  // connect() installs the channel's callbacks synchronously; start() does nothing.
  const connected = server.connect(channel);

  /** The direct path's attempt at `message` under the dispatch's id `id` (taken: the exchange). */
  const directly = (message: unknown, id: number, p: Pending, authInfo: AuthInfo): Exchange | undefined => {
    if (direct === undefined) return undefined;
    channel.table.pending.set(id, p);
    // The direct path answers with the client's id; it knows the request by the dispatch's own.
    const reply = (response: JSONRPCMessage, frame?: string) => {
      if (channel.table.pending.delete(id)) p.sink.settle(response, false, frame);
    };
    if (!direct.take(message, authInfo, p.logger, reply, id)) {
      channel.table.pending.delete(id);
      return undefined;
    }
    p.inWindow = false;
    return {
      cancel() {
        if (channel.table.pending.delete(id)) direct.cancel(id);
      },
    };
  };

  return {
    take(message, authInfo, logger, sink) {
      const originalId = (message as { id?: unknown }).id;
      if (typeof originalId !== 'string' && typeof originalId !== 'number') return undefined;
      return directly(message, ++nextId, { originalId, logger, sink, inWindow: true }, authInfo);
    },
    dispatch(request, authInfo, logger, sink) {
      const id = ++nextId;
      const p: Pending = { originalId: request.id, logger, sink, inWindow: true };
      const taken = directly(request, id, p, authInfo);
      if (taken !== undefined) return taken;
      channel.table.pending.set(id, p);
      try {
        // The request under the dispatch's own id (its answer carries the client's id back).
        channel.onmessage?.({ ...request, id }, extra(authInfo));
      } catch (err) {
        channel.table.pending.delete(id);
        throw err;
      } finally {
        p.inWindow = false;
      }
      return {
        cancel(reason) {
          if (!channel.table.pending.delete(id)) return;
          channel.onmessage?.(
            { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } },
            extra(),
          );
        },
      };
    },
    async close() {
      direct?.close();
      await connected;
      await server.close();
    },
  };
}

/** What the server's session factory is asked for the dispatch's one server. */
export interface DispatchServerRequest {
  readonly authInfo: () => AuthInfo;
  readonly logger: (ctx: ServerContext) => Logger;
  /** Absent: the SDK's default (2025-era) list, as a connection's own server has. */
  readonly supportedProtocolVersions?: string[];
}

/**
 * The server's one dispatch, for both transports: its McpServer made once by `createSession`,
 * listing the SDK's 2025-era revisions and {@link DISPATCH_REVISION}, with no credential of its
 * own (each request brings its token) and each request's audit logger.
 */
export function createServerDispatch(
  createSession: (request: DispatchServerRequest) => Session,
  logger: Logger,
): ModernDispatch {
  return createModernDispatch({
    createServer: (requestLogger) =>
      createSession({
        authInfo: () => NO_CREDENTIAL,
        logger: requestLogger,
        supportedProtocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS, DISPATCH_REVISION],
      }),
    logger,
    onerror: (err) => logger.debug({ event: 'protocol_error', error: err.message }),
  });
}
