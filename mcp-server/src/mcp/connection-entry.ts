import type {
  AuthInfo,
  JSONRPCMessage,
  JSONRPCRequest,
  McpServer,
  TransportSendOptions,
} from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Logger } from '../log.ts';
import type { Exchange } from './dispatch-channels.ts';
import { EntryExchange, PRIMING_ID, SdkWire } from './entry-wires.ts';
import { LEGACY_DISPATCHED_METHODS, type LegacyDispatches } from './legacy-dispatches.ts';
import { DISPATCHED_METHODS, dispatchedRequest, type SharedDispatch } from './modern-dispatch.ts';
import { NO_HEADERS, type RequestClassifier } from './request-classifier.ts';
import { type IdKey, idKey, isJsonObject } from './request-id.ts';

/** The protocol era a connection was served in (metrics). */
export type Era = 'legacy' | 'modern';

/** The side of a connection the entry answers through (the WebSocket transport). */
export interface ConnectionWire {
  /** Sends a message the SDK made. */
  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void>;
  /** Sends an answer, with its frame when the direct path already made it. */
  reply(message: JSONRPCMessage, frame?: string): Promise<void>;
  close(): Promise<void>;
}

/** What every connection's entry shares: one per server. */
export interface EntryPoint<W extends ConnectionWire> {
  /** The server's shared 2026-07-28 dispatch; undefined sends every message to the SDK's entry. */
  readonly dispatch: SharedDispatch | undefined;
  /** The server's shared 2025-era dispatches, by negotiated version; undefined sends `initialize` to the SDK's entry. */
  readonly legacy: LegacyDispatches | undefined;
  readonly classify: RequestClassifier;
  /** Builds a connection's own McpServer, for the SDK's entry (called on each era decision it makes). */
  createServer(wire: W, logger: Logger, era: Era): McpServer;
  /** Reports a protocol error of a connection (refusals were already answered on the wire); called unbound. */
  readonly report: Reporter;
}

/** Reports a protocol error of the connection whose logger is given. */
export type Reporter = (logger: Logger, error: Error) => void;

/**
 * Where the connection stands, in the SDK entry's terms (`serveStdio`): nothing decided yet; a
 * `server/discover` probe answered (an `initialize` may still follow); pinned to 2026-07-28;
 * pinned to a 2025-era version by an `initialize` the shared dispatch answered; or handed to the
 * SDK's entry, which serves everything from then on.
 */
type Phase = 'opening' | 'probe' | 'modern' | 'legacy' | 'sdk';

let dispatched = 0;
let handedOver = 0;

/** Requests served by the shared dispatch and SDK entries made, in this process (tests: proof of the path taken). */
export function connectionEntryStats(): { dispatched: number; handedOver: number } {
  return { dispatched, handedOver };
}

/**
 * Serves one connection's messages. The SDK's connection-pinned entry (`serveStdio`) builds an
 * McpServer per connection at its first message (with the entry, 12 KiB of heap per idle
 * connection, and tens of µs each); a connection needs none while it only sends what a shared
 * server answers, so those go there, under the connection's token and logger, and the connection
 * holds no SDK state at all: in 2026-07-28, what the server's shared dispatch serves
 * (mcp/modern-dispatch.ts: `tools/call`, `tools/list`, `server/discover`, classified as the SDK
 * classifies them); in the 2025 era, after an `initialize` of a version the SDK lists, answered
 * by that version's shared server (mcp/legacy-dispatches.ts), `tools/call`, `tools/list` and `ping`.
 *
 * Everything else (another method, a refused envelope, a notification, a response, ...) goes to
 * the SDK's entry, made at that moment and first brought to the phase the connection is in, as
 * if it had seen the connection from its start: sent the connection's `initialize` (and
 * `notifications/initialized`), or after a probe a `server/discover`, or once pinned to
 * 2026-07-28 a `ping`, each with an id of the entry's own whose answer is dropped. From then on
 * the SDK's entry serves every message, as it did before this path existed; a test compares both
 * byte for byte.
 */
export class ConnectionEntry<W extends ConnectionWire> {
  readonly #point: EntryPoint<W>;
  readonly #wire: W;
  /** The connection's audit logger. */
  readonly #logger: Logger;
  /** Told the era each time it is decided (metrics). */
  readonly #onEra: ((era: Era) => void) | undefined;
  #phase: Phase = 'opening';
  /** The envelope of the last request served by the dispatch (the priming requests carry it). */
  #envelope: Record<string, unknown> | undefined;
  /** Requests at the dispatch, by id (a cancel, or the connection closing, stops them); made at the first. */
  #exchanges: Map<IdKey, Exchange> | undefined;
  /** The SDK entry's side of the wire, once made. */
  #sdk: SdkWire | undefined;
  /** 2025-era: the connection's `initialize` and `notifications/initialized` (a server of its own is primed with them). */
  #initialize: JSONRPCRequest | undefined;
  #initialized: JSONRPCMessage | undefined;
  /** 2025-era: the version the shared dispatch negotiated; undefined until it answered (or if it refused). */
  #version: string | undefined;

  constructor(point: EntryPoint<W>, wire: W, logger: Logger, onEra?: (era: Era) => void) {
    this.#point = point;
    this.#wire = wire;
    this.#logger = logger;
    this.#onEra = onEra;
  }

  /** Serves one message of the connection, under its current token. */
  receive(message: JSONRPCMessage, authInfo: AuthInfo): void {
    if (this.#phase !== 'sdk') {
      if (this.#phase === 'legacy' ? this.#serveLegacy(message, authInfo) : this.#serveShared(message, authInfo))
        return;
      if (this.#openLegacy(message, authInfo)) return;
      // Pinned, a cancel reaches no SDK state (there is none): stopping the request is all it does.
      if ((this.#phase === 'modern' || this.#phase === 'legacy') && isCancel(message)) {
        this.#cancel(message);
        return;
      }
      this.#handOver();
    }
    if (isCancel(message)) this.#cancel(message);
    this.#sdk?.onmessage?.(message);
  }

  /** A transport error, told to the SDK's entry when it exists. */
  error(error: Error): void {
    if (this.#sdk?.onerror) this.#sdk.onerror(error);
    else this.#point.report(this.#logger, error);
  }

  /** The connection closed: requests at the dispatch stop unanswered, the SDK's entry closes its server. */
  close(): void {
    for (const exchange of this.#exchanges?.values() ?? []) exchange.cancel('the connection closed');
    this.#exchanges = undefined;
    this.#sdk?.onclose?.();
  }

  /**
   * Serves `message` from the shared dispatch when the SDK's entry would let that server answer
   * it: a `tools/call` its direct path takes as it is, or a request of a method it serves that the
   * SDK classifies as 2026-07-28. False when the connection needs a server of its own.
   */
  #serveShared(message: JSONRPCMessage, authInfo: AuthInfo): boolean {
    const dispatch = this.#point.dispatch;
    const { method, id } = message as { method?: unknown; id?: unknown };
    if (dispatch === undefined || (typeof id !== 'string' && typeof id !== 'number')) return false;
    if (typeof method !== 'string' || !DISPATCHED_METHODS.has(method)) return false;
    const sink = this.#sink(id);
    let exchange = dispatch.take(message, authInfo, this.#logger, sink);
    if (exchange === undefined) {
      const request = dispatchedRequest(this.#point.classify(NO_HEADERS, message));
      if (request === undefined) return false;
      exchange = dispatch.dispatch(request, authInfo, this.#logger, sink);
    }
    dispatched++;
    if (this.#phase === 'opening') this.#onEra?.('modern');
    // A probe leaves the era open; any other request pins the connection to 2026-07-28.
    if (method !== 'server/discover') this.#phase = 'modern';
    else if (this.#phase === 'opening') this.#phase = 'probe';
    this.#envelope = (message as JSONRPCRequest).params?._meta;
    sink.pending(exchange);
    return true;
  }

  /**
   * Answers a 2025-era `initialize` (the SDK classifies it so) of a version the SDK lists from
   * that version's shared dispatch, pinning the connection to it, as the SDK's entry would pin it
   * (after a probe too: the entry discards the probe's server). Another version, or an answer
   * that is not a result of that version, leaves the next message to a server of its own.
   */
  #openLegacy(message: JSONRPCMessage, authInfo: AuthInfo): boolean {
    const request = message as JSONRPCRequest;
    if (this.#phase !== 'opening' && this.#phase !== 'probe') return false;
    if (request.method !== 'initialize' || !hasId(request) || !isJsonObject(request.params)) return false;
    const version = request.params.protocolVersion;
    const requested = typeof version === 'string' ? version : undefined;
    const dispatch = requested === undefined ? undefined : this.#point.legacy?.of(requested);
    if (dispatch === undefined || this.#point.classify(NO_HEADERS, message).kind !== 'legacy') return false;
    const sink = this.#sink(request.id);
    // Made, then assigned (not a literal assigned to a property: see ws-session.ts).
    const onAnswer = (answer: JSONRPCMessage) => {
      const result = (answer as { result?: { protocolVersion?: unknown } }).result;
      if (result?.protocolVersion === requested) this.#version = requested;
    };
    sink.onAnswer = onAnswer;
    this.#phase = 'legacy';
    this.#initialize = request;
    this.#envelope = undefined;
    this.#onEra?.('legacy');
    dispatched++;
    sink.pending(dispatch.dispatch(request, authInfo, this.#logger, sink));
    return true;
  }

  /**
   * 2025-era, pinned by {@link #openLegacy}: serves a `tools/call`, `tools/list` or `ping` from
   * the version's shared dispatch, and takes note of `notifications/initialized`. False for
   * anything else (a server of its own answers it).
   */
  #serveLegacy(message: JSONRPCMessage, authInfo: AuthInfo): boolean {
    const { method } = message as { method?: unknown };
    if (method === 'notifications/initialized' && !('id' in message)) {
      this.#initialized ??= message;
      return true;
    }
    const dispatch = this.#version === undefined ? undefined : this.#point.legacy?.of(this.#version);
    const request = message as JSONRPCRequest;
    if (dispatch === undefined || !hasId(request) || !LEGACY_DISPATCHED_METHODS.has(request.method)) return false;
    const sink = this.#sink(request.id);
    dispatched++;
    // dispatch() tries the direct path first (no classification to skip here, unlike #serveShared).
    sink.pending(dispatch.dispatch(request, authInfo, this.#logger, sink));
    return true;
  }

  /** Where the answer to the request `id` goes, and its place among the connection's open ones. */
  #sink(id: string | number): EntryExchange {
    this.#exchanges ??= new Map();
    return new EntryExchange(idKey(id), this.#exchanges, this.#wire, this.#point.report, this.#logger);
  }

  /** A `notifications/cancelled` naming a request at the dispatch stops it (no answer follows). */
  #cancel(message: JSONRPCMessage): void {
    const params = (message as { params?: unknown }).params;
    const key = idKey(isJsonObject(params) ? params.requestId : undefined);
    const exchange = this.#exchanges?.get(key);
    if (exchange === undefined) return;
    this.#exchanges?.delete(key);
    exchange.cancel(isJsonObject(params) && typeof params.reason === 'string' ? params.reason : 'cancelled');
  }

  /** Makes the SDK's entry and brings it to this connection's phase. */
  #handOver(): void {
    const phase = this.#phase;
    this.#phase = 'sdk';
    handedOver++;
    const sdk = new SdkWire(this.#wire);
    this.#sdk = sdk;
    serveStdio(
      (ctx) => {
        this.#onEra?.(ctx.era);
        return this.#point.createServer(this.#wire, this.#logger, ctx.era);
      },
      { transport: sdk, onerror: (err) => this.#point.report(this.#logger, err) },
    );
    if (phase === 'legacy' && this.#initialize !== undefined) {
      sdk.prime({ ...this.#initialize, id: PRIMING_ID });
      if (this.#initialized !== undefined) sdk.prime(this.#initialized);
      return;
    }
    const meta = { _meta: this.#envelope };
    if (phase === 'probe') sdk.prime({ jsonrpc: '2.0', id: PRIMING_ID, method: 'server/discover', params: meta });
    if (phase === 'modern') sdk.prime({ jsonrpc: '2.0', id: PRIMING_ID, method: 'ping', params: meta });
  }
}

function hasId(request: JSONRPCRequest): boolean {
  return typeof request.id === 'string' || typeof request.id === 'number';
}

function isCancel(message: JSONRPCMessage): boolean {
  return (message as { method?: unknown }).method === 'notifications/cancelled' && !('id' in message);
}
