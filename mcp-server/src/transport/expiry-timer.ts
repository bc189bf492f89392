/** setTimeout's ceiling (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * Waits longer than this are armed in whole multiples of it, then the rest. Node keeps one timer
 * list per distinct duration, and the list of an unref'd timer that is cleared stays until its
 * own deadline: with exact waits every connection (exp - now differs by the millisecond) left an
 * empty list behind for its token's lifetime (4,000 short connections: 3,894 lists). Whole seconds
 * bound them by the lifetime in seconds, and the last step still fires at `exp` to the millisecond.
 */
export const EXPIRY_STEP_MS = 1000;

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
    const step = wait > EXPIRY_STEP_MS ? Math.floor(wait / EXPIRY_STEP_MS) * EXPIRY_STEP_MS : wait;
    this.#timer = setTimeout(() => this.arm(exp), Math.min(step, MAX_TIMER_MS));
    this.#timer.unref();
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
