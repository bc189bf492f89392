/** The two sides of a connection's entry (mcp/connection-entry.ts): its exchanges at a shared dispatch, and the SDK entry's wire. */
import { randomUUID } from 'node:crypto';
import type { JSONRPCMessage, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import type { Logger } from '../log.ts';
import type { ConnectionWire, Reporter } from './connection-entry.ts';
import type { Exchange, ExchangeSink } from './dispatch-channels.ts';
import type { IdKey } from './request-id.ts';

/** The id of the requests that bring a newly made SDK entry to the connection's phase; their answers are dropped. */
export const PRIMING_ID = `connection-entry-priming-${randomUUID()}`;

/** One request of a connection at the dispatch: where its answer goes, and its place among the connection's open ones. */
export class EntryExchange implements ExchangeSink {
  readonly #key: IdKey;
  readonly #open: Map<IdKey, Exchange>;
  readonly #wire: ConnectionWire;
  readonly #report: Reporter;
  readonly #logger: Logger;
  #answered = false;
  /** Told the answer before it is sent. */
  onAnswer: ((message: JSONRPCMessage) => void) | undefined;

  constructor(key: IdKey, open: Map<IdKey, Exchange>, wire: ConnectionWire, report: Reporter, logger: Logger) {
    this.#key = key;
    this.#open = open;
    this.#wire = wire;
    this.#report = report;
    this.#logger = logger;
  }

  /** Records the exchange among the connection's open ones, unless it was already answered. */
  pending(exchange: Exchange): void {
    if (!this.#answered) this.#open.set(this.#key, exchange);
  }

  related(message: JSONRPCMessage): void {
    this.#wire.send(message).catch((err: unknown) => this.#reportError(err));
  }

  settle(message: JSONRPCMessage, _refused: boolean, frame?: string): void {
    this.abandon();
    this.onAnswer?.(message);
    this.#wire.reply(message, frame).catch((err: unknown) => this.#reportError(err));
  }

  abandon(): void {
    this.#answered = true;
    this.#open.delete(this.#key);
  }

  #reportError(err: unknown): void {
    this.#report(this.#logger, err as Error);
  }
}

/** The wire as the SDK's entry sees it: the connection's, minus the answers to priming requests. */
export class SdkWire implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: Transport['onmessage'];
  readonly #wire: ConnectionWire;

  constructor(wire: ConnectionWire) {
    this.#wire = wire;
  }

  async start(): Promise<void> {}

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if ('id' in message && message.id === PRIMING_ID && !('method' in message)) return Promise.resolve();
    return this.#wire.send(message, options);
  }

  close(): Promise<void> {
    return this.#wire.close();
  }

  prime(request: JSONRPCMessage): void {
    this.onmessage?.(request);
  }
}
