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
