import type { ServerResponse } from 'node:http';
import type { Budget } from './budget.ts';

/**
 * Counts one HTTP request against `budgets` for as long as its response lives: one request in
 * flight from now, plus every byte written to the response, all returned when the response
 * closes (finished, or the connection went away). A peer that does not read keeps its response
 * open, so what it holds stays counted and further requests of that client are refused.
 */
export function meterResponse(res: ServerResponse, budgets: readonly Budget[]): void {
  let held = 0;
  const count = (chunk: unknown): void => {
    const n = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk instanceof Uint8Array ? chunk.byteLength : 0;
    if (n === 0) return;
    held += n;
    for (const b of budgets) b.hold(n);
  };
  for (const b of budgets) b.begin();
  const write = res.write;
  const end = res.end;
  // Made, then assigned: a function literal assigned straight to a property is allocated in V8's
  // old generation and would hold this response through every young collection until a full one.
  const meteredWrite = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    count(chunk);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;
  const meteredEnd = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (typeof chunk !== 'function') count(chunk);
    return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as typeof res.end;
  res.write = meteredWrite;
  res.end = meteredEnd;
  res.once('close', () => {
    for (const b of budgets) {
      b.release(held);
      b.end();
    }
  });
}
