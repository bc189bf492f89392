import { Budget, type BudgetLimits } from './budget.ts';

/** A request's id as a key (mcp/request-id.ts `idKey`). */
type IdKey = string | number | null;

/** What {@link ConnectionAccount.start} decided for a request. */
export type StartDecision = 'started' | 'duplicate' | 'wait';

/**
 * The work one WebSocket connection holds, booked in its own budget and in its client's (shared
 * with the client's other connections and its HTTP requests): request ids in flight and response
 * bytes not yet written. On close, {@link settle} gives back everything still booked, so a closed
 * connection never keeps its client's budget.
 */
export class ConnectionAccount {
  readonly #own: Budget;
  readonly #client: Budget | undefined;
  readonly #inFlight = new Set<IdKey>();
  #held = 0;
  #stopWaiting: (() => void) | undefined;
  readonly #onOpen: () => void;

  /**
   * @param limits this connection's caps
   * @param client the client's budget; undefined: none
   * @param onOpen called once the client's budget opens again after a `wait` it caused
   */
  constructor(limits: BudgetLimits, client: Budget | undefined, onOpen: () => void) {
    this.#own = new Budget(limits);
    this.#client = client;
    this.#onOpen = onOpen;
  }

  /** Response bytes held now. */
  get held(): number {
    return this.#held;
  }

  /**
   * Decides whether the next inbound frame may be served. Every frame waits while this connection
   * or its client holds its byte budget (any frame may produce output: an answer, an error).
   * A request (`key` from request-id.ts `idKey`; undefined for anything else) is then
   * `duplicate` when that id is in flight, and waits at an in-flight cap. After `wait`, a
   * completed write or answer of this connection, or the client's budget opening, is the moment
   * to try again.
   */
  start(key: IdKey | undefined): StartDecision {
    if (!this.#own.hasRoom || !this.#clientAllows(key !== undefined)) return 'wait';
    if (key === undefined) return 'started';
    if (this.#inFlight.has(key)) return 'duplicate';
    if (!this.#own.open) return 'wait';
    this.#inFlight.add(key);
    this.#own.begin();
    this.#client?.begin();
    return 'started';
  }

  #clientAllows(request: boolean): boolean {
    const client = this.#client;
    if (client === undefined || (request ? client.open : client.hasRoom)) return true;
    this.#stopWaiting ??= client.whenOpen(() => {
      this.#stopWaiting = undefined;
      this.#onOpen();
    });
    return false;
  }

  /** The request with `key` was answered or cancelled (unknown keys are ignored). */
  end(key: IdKey): void {
    if (!this.#inFlight.delete(key)) return;
    this.#own.end();
    this.#client?.end();
  }

  /** Books `bytes` of a response from production until {@link release} (its write completed). */
  hold(bytes: number): void {
    this.#held += bytes;
    this.#own.hold(bytes);
    this.#client?.hold(bytes);
  }

  release(bytes: number): void {
    const n = Math.min(bytes, this.#held);
    this.#held -= n;
    this.#own.release(n);
    this.#client?.release(n);
  }

  /** The connection closed: gives back every byte and request still booked. */
  settle(): void {
    this.#stopWaiting?.();
    this.#stopWaiting = undefined;
    this.release(this.#held);
    for (const key of [...this.#inFlight]) this.end(key);
  }
}
