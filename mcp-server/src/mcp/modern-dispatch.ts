import {
  type AuthInfo,
  type InboundClassificationOutcome,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type MessageClassification,
  type ServerContext,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/server';
import type { Logger } from '../log.ts';
import {
  type DispatchChannel,
  type Exchange,
  type ExchangeSink,
  LegacyChannel,
  ModernChannel,
  type Pending,
} from './dispatch-channels.ts';
import { initializeKey } from './envelope-key.ts';
import { discoverKey, LearnedAnswers } from './learned-answers.ts';
import type { Session } from './session.ts';

/** The revision the server's one {@link createModernDispatch} dispatch serves. */
export const DISPATCH_REVISION = '2026-07-28';

/** A credential with no scopes: what a shared server falls back to if a request came without one (never happens). */
export const NO_CREDENTIAL: AuthInfo = { token: '', clientId: '', scopes: [] };

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

const CLASSIFICATION: MessageClassification = { era: 'modern', revision: DISPATCH_REVISION };

/** Options of {@link createModernDispatch} and {@link createLegacyDispatch}. */
export interface SharedDispatchOptions {
  /**
   * Builds the one McpServer every request is dispatched to (and its direct path for tool calls).
   * For 2026-07-28 it must list {@link DISPATCH_REVISION} in its supported protocol versions; it
   * must take each request's token from `ctx.http.authInfo` and its audit logger from `logger(ctx)`.
   */
  createServer(logger: (ctx: ServerContext) => Logger): Session;
  /** Logger for lines of a request no longer tracked (answered or cancelled while its handler ran). */
  logger: Logger;
  /** Told of errors the protocol layer reports out of band (reporting only). Default none. */
  onerror?: (error: Error) => void;
}

/** A long-lived dispatch of the requests of one revision, for every client (one McpServer). */
export interface SharedDispatch {
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
 * envelope the SDK already accepted, valid arguments) and opening requests it already answered
 * (mcp/learned-answers.ts: `server/discover`, and on a 2025-era dispatch `initialize`), which
 * answer the same bytes without it.
 */
export function createModernDispatch(options: SharedDispatchOptions): SharedDispatch {
  return sharedDispatch(new ModernChannel(CLASSIFICATION), CLASSIFICATION, options);
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
export function createLegacyDispatch(options: SharedDispatchOptions, version: string): SharedDispatch {
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
  options: SharedDispatchOptions,
): SharedDispatch {
  const extra = (authInfo?: AuthInfo) => ({ ...(authInfo && { authInfo }), ...(classification && { classification }) });
  let nextId = BINDING_ID;
  const { server, direct } = options.createServer(
    (ctx) => channel.table.pending.get(ctx.mcpReq.id as number)?.logger ?? options.logger,
  );
  if (options.onerror) server.server.onerror = options.onerror;
  // connect() installs the channel's callbacks synchronously; start() does nothing.
  const connected = server.connect(channel);
  // The opening request of its era: `server/discover` for 2026-07-28, `initialize` for a 2025-era server.
  const learned = new LearnedAnswers(classification === undefined ? initializeKey : discoverKey);

  /** A remembered answer, sent as the SDK's would be: after this turn, unless cancelled or closed first. */
  const remembered = (id: number, p: Pending, answer: JSONRPCMessage): Exchange => {
    channel.table.pending.set(id, p);
    p.inWindow = false;
    const send = () => {
      if (channel.table.pending.delete(id)) p.sink.settle(answer, false);
    };
    queueMicrotask(send);
    return {
      cancel() {
        channel.table.pending.delete(id);
      },
    };
  };

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
      const key = learned.keyOf(request);
      if (key !== undefined) {
        const known = learned.answer(key, request.id);
        if (known !== undefined) return remembered(id, { originalId: request.id, logger, sink, inWindow: true }, known);
        sink = learned.teaching(key, sink);
      }
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
): SharedDispatch {
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
