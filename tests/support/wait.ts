// Waiting on a condition instead of sleeping a fixed time: poll until it holds, fail at a deadline.
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Polls `check` every `everyMs` until it returns true; resolves to the ms it took.
 * @throws Error naming `what` when `timeoutMs` passes first.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 50,
  what = 'condition',
): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await delay(everyMs);
  }
}

/**
 * Polls `find` every `everyMs` until it returns something other than `undefined`; resolves to that value.
 * @throws Error naming `what` when `timeoutMs` passes first.
 */
export async function waitFor<T>(
  find: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  everyMs = 20,
): Promise<T> {
  let found: T | undefined;
  await waitUntil(
    async () => {
      found = await find();
      return found !== undefined;
    },
    timeoutMs,
    everyMs,
    what,
  );
  return found as T;
}

/** A structured log line, as the test servers collect them. */
export type LogLine = Record<string, unknown>;

/**
 * Waits until `logs` holds a line matching `match` (from index `from` on, to skip earlier lines)
 * and resolves to it: the server's own record that something happened, instead of a fixed sleep.
 * @throws Error naming `what` when `timeoutMs` passes first.
 */
export function waitForLog(
  logs: readonly LogLine[],
  match: (line: LogLine) => boolean,
  timeoutMs: number,
  what: string,
  from = 0,
): Promise<LogLine> {
  return waitFor(() => logs.slice(from).find(match), timeoutMs, what);
}

/**
 * Polls `read` until its value has held still for `quietMs` (and, with `atLeast`, reached it);
 * resolves to that value. For a bound that is proven by the work stopping: work that never stops
 * keeps the value moving, so the caller's assertion on the settled value still fails.
 * @throws Error naming `what` when `timeoutMs` passes first.
 */
export async function waitUntilSettled(
  read: () => number,
  quietMs: number,
  timeoutMs: number,
  what: string,
  atLeast = Number.NEGATIVE_INFINITY,
): Promise<number> {
  let last = read();
  let since = Date.now();
  await waitUntil(
    () => {
      const now = read();
      if (now !== last) {
        last = now;
        since = Date.now();
      }
      return last >= atLeast && Date.now() - since >= quietMs;
    },
    timeoutMs,
    20,
    what,
  );
  return last;
}
