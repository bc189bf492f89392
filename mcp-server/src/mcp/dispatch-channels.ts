/**
 * The channels between a shared McpServer and the exchanges it answers: one routing table of
 * requests in flight, carried by a channel of the era the server is bound to.
 */
import {
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type MessageClassification,
  PerRequestHTTPServerTransport,
  type RequestId,
  type Transport,
  type TransportSendOptions,
} from '@modelcontextprotocol/server';
import type { Logger } from '../log.ts';

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

/** The SDK's MissingRequiredClientCapability code: the one handler error answered as a refusal (HTTP 400). */
const MISSING_CLIENT_CAPABILITY = -32021;

export interface Pending {
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
export class ExchangeTable {
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
export interface DispatchChannel extends Transport {
  readonly table: ExchangeTable;
}

/**
 * The 2026-07-28 channel (`classification` names the revision). It is the SDK's per-request HTTP transport by type only: connecting a
 * Server to one built for 2026-07-28 is how the SDK binds an instance to that revision
 * (`Server.connect`), without reaching into its internals. Every method the protocol layer calls
 * is overridden.
 */
export class ModernChannel extends PerRequestHTTPServerTransport implements DispatchChannel {
  readonly table = new ExchangeTable();

  constructor(classification: MessageClassification) {
    super({ classification });
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
export class LegacyChannel implements DispatchChannel {
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
