/** setTimeout's ceiling (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `onExpired` once the epoch-seconds deadline given to {@link ExpiryTimer.arm} has passed
 * (at once when it already has). Re-arming replaces the deadline (a renewed token); the timer
 * never keeps the process alive.
 */
export class ExpiryTimer {
  readonly #now: () => number;
  readonly #onExpired: () => void;
  #timer: NodeJS.Timeout | undefined;

  /** `now`: clock in ms since the epoch. */
  constructor(now: () => number, onExpired: () => void) {
    this.#now = now;
    this.#onExpired = onExpired;
  }

  /** Arms for `exp` (epoch seconds); undefined means never. Replaces any earlier deadline. */
  arm(exp: number | undefined): void {
    this.clear();
    if (exp === undefined) return;
    const wait = exp * 1000 - this.#now();
    if (wait <= 0) {
      this.#onExpired();
      return;
    }
    this.#timer = setTimeout(() => this.arm(exp), Math.min(wait, MAX_TIMER_MS));
    this.#timer.unref();
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
