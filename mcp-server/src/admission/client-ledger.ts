import { Budget, type BudgetLimits } from './budget.ts';

/** Options of {@link ClientLedger}. */
export interface ClientLedgerOptions {
  /** WebSocket connections plus Streamable HTTP sessions allowed at once (MAX_CONNECTIONS). */
  readonly maxConnections: number;
  /** Connections plus sessions one client (`azp`) may hold at once (MAX_CONNECTIONS_PER_CLIENT). */
  readonly maxConnectionsPerClient: number;
  /** The budget of each client across its connections (MAX_IN_FLIGHT_PER_CLIENT, MAX_CLIENT_BUFFERED_BYTES). */
  readonly clientBudget: BudgetLimits;
}

/** A connection or session slot held by one client; give it back with `release()` (idempotent). */
export interface Lease {
  readonly clientId: string;
  /** The client's budget, shared by all its connections and both transports. */
  readonly budget: Budget;
  release(): void;
}

/** Why {@link ClientLedger.admit} refused. */
export type LedgerRefusal =
  | { readonly reason: 'over_capacity' }
  | { readonly reason: 'client_over_capacity'; readonly held: number };

interface ClientEntry {
  connections: number;
  /** Leases of single requests (2026-07-28 HTTP) that hold the budget without a slot. */
  borrowed: number;
  readonly budget: Budget;
}

/**
 * Connection slots counted once for both transports: a WebSocket connection and a Streamable HTTP
 * session each hold one slot of the overall cap and one of their client's. `admit` checks and
 * takes a slot in the same synchronous step, so concurrent admissions (HTTP initializes
 * authenticating at once) cannot pass a cap together. An entry lives while its client holds a
 * slot or its budget still holds work, so memory follows active clients.
 */
export class ClientLedger {
  readonly #options: ClientLedgerOptions;
  readonly #clients = new Map<string, ClientEntry>();
  #total = 0;

  constructor(options: ClientLedgerOptions) {
    this.#options = options;
  }

  /** Slots held, both transports together. */
  get total(): number {
    return this.#total;
  }

  /** True when no further slot can be given to anyone. */
  get full(): boolean {
    return this.#total >= this.#options.maxConnections;
  }

  /** Slots `clientId` holds. */
  heldBy(clientId: string): number {
    return this.#clients.get(clientId)?.connections ?? 0;
  }

  /** Takes a slot for `clientId`, or says which cap refused it. */
  admit(clientId: string): Lease | LedgerRefusal {
    if (this.full) return { reason: 'over_capacity' };
    const held = this.heldBy(clientId);
    if (held >= this.#options.maxConnectionsPerClient) return { reason: 'client_over_capacity', held };
    const entry = this.#entry(clientId);
    entry.connections++;
    this.#total++;
    const admitted = entry;
    let released = false;
    return {
      clientId,
      budget: admitted.budget,
      release: () => {
        if (released) return;
        released = true;
        admitted.connections--;
        this.#total--;
        this.#forget(clientId, admitted);
      },
    };
  }

  /**
   * The client's budget for one stateless request (2026-07-28 over HTTP), without a slot: such a
   * request holds no session, so only the client's budget (in flight, bytes) bounds it.
   */
  borrow(clientId: string): Lease {
    const entry = this.#entry(clientId);
    entry.borrowed++;
    let released = false;
    return {
      clientId,
      budget: entry.budget,
      release: () => {
        if (released) return;
        released = true;
        entry.borrowed--;
        this.#forget(clientId, entry);
      },
    };
  }

  #entry(clientId: string): ClientEntry {
    let entry = this.#clients.get(clientId);
    if (entry === undefined) {
      entry = { connections: 0, borrowed: 0, budget: new Budget(this.#options.clientBudget) };
      this.#clients.set(clientId, entry);
    }
    return entry;
  }

  #forget(clientId: string, entry: ClientEntry): void {
    if (entry.connections + entry.borrowed > 0 || this.#clients.get(clientId) !== entry) return;
    // Work still held (a closing socket's writes) keeps the entry, so a reconnect shares that budget.
    if (entry.budget.idle) {
      this.#clients.delete(clientId);
      return;
    }
    entry.budget.whenOpen(() => this.#forget(clientId, entry));
  }
}

/** True when `x` is a refusal of {@link ClientLedger.admit}. */
export function isLedgerRefusal(x: Lease | LedgerRefusal): x is LedgerRefusal {
  return 'reason' in x;
}
