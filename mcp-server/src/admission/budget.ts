/** Limits of one {@link Budget}. */
export interface BudgetLimits {
  /** Requests that may run at once (received, not yet answered). */
  readonly maxInFlight: number;
  /** Response bytes that may be held at once: produced by a tool and not yet written to the socket. */
  readonly maxBytes: number;
}

/**
 * The work one scope holds in memory: requests in flight and encoded response bytes not yet
 * written. One per connection (or HTTP session) and one per client (`azp`), shared by every
 * connection of that client on both transports. A request may start only while its scope is
 * {@link Budget.open}; everything in flight when it closes still finishes, so the bytes held
 * stay below `maxBytes + maxInFlight x (largest response)`.
 */
export class Budget {
  readonly limits: BudgetLimits;
  #inFlight = 0;
  #bytes = 0;
  /** One-shot listeners waiting for the budget to open again. */
  #waiting = new Set<() => void>();

  constructor(limits: BudgetLimits) {
    if (!(limits.maxInFlight >= 1) || !(limits.maxBytes >= 1)) {
      throw new TypeError('maxInFlight and maxBytes must be >= 1');
    }
    this.limits = limits;
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Response bytes held (produced, not yet written). */
  get bytes(): number {
    return this.#bytes;
  }

  /** True when one more request may start: below the in-flight cap and the byte budget. */
  get open(): boolean {
    return this.#inFlight < this.limits.maxInFlight && this.#bytes < this.limits.maxBytes;
  }

  /** True while the bytes held are below the byte budget (more output may be produced). */
  get hasRoom(): boolean {
    return this.#bytes < this.limits.maxBytes;
  }

  /** True when nothing is in flight or held (a client entry with no connection can be dropped). */
  get idle(): boolean {
    return this.#inFlight === 0 && this.#bytes === 0;
  }

  /** Counts a request that starts. */
  begin(): void {
    this.#inFlight++;
  }

  /** Counts a request that finished (answered, cancelled or abandoned). */
  end(): void {
    if (this.#inFlight > 0) this.#inFlight--;
    this.#relieve();
  }

  /** Counts `n` response bytes from production until their write completes ({@link release}). */
  hold(n: number): void {
    this.#bytes += n;
  }

  /** Returns `n` bytes held by {@link hold} (their write completed or failed). */
  release(n: number): void {
    this.#bytes = Math.max(0, this.#bytes - n);
    this.#relieve();
  }

  /**
   * Calls `listener` once, the next time a request ends or bytes are released while the budget is
   * open. @returns a function that cancels the wait
   */
  whenOpen(listener: () => void): () => void {
    this.#waiting.add(listener);
    return () => this.#waiting.delete(listener);
  }

  #relieve(): void {
    if (this.#waiting.size === 0 || !this.open) return;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const listener of waiting) listener();
  }
}
