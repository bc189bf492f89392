// The token-expiry timer of a connection: it fires at the deadline, not before, and connections
// that come and go do not leave one of Node's timer lists each behind (a list per distinct
// duration; an unref'd timer's empty list stays until its own deadline).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ExpiryTimer } from '../../../mcp-server/src/transport/expiry-timer.ts';

const MODULE = path.join(import.meta.dirname, '../../../mcp-server/src/transport/expiry-timer.ts');

describe('ExpiryTimer', () => {
  it('fires at the deadline, to the millisecond, across its whole-second steps', async () => {
    const armedAt = Date.now();
    const fired = await new Promise<number>((resolve) => {
      new ExpiryTimer(Date.now, () => resolve(Date.now())).arm((armedAt + 2300) / 1000);
    });
    assert.ok(fired >= armedAt + 2300, `fired ${armedAt + 2300 - fired} ms early`);
    assert.ok(fired < armedAt + 2300 + 200, `fired ${fired - armedAt - 2300} ms late`);
  });

  it('fires at once for a deadline already past, and never after clear()', async () => {
    let calls = 0;
    const timer = new ExpiryTimer(Date.now, () => calls++);
    timer.arm(Date.now() / 1000 - 1);
    assert.equal(calls, 1);
    timer.arm((Date.now() + 100) / 1000);
    timer.clear();
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(calls, 1);
  });

  it('2,000 timers armed and cleared for distinct deadlines leave a bounded number of timer lists', () => {
    // Node's timer lists are internal: counted in a child with --expose-internals.
    const script = `
      const { timerListMap } = require('internal/timers');
      import(${JSON.stringify(MODULE)}).then(({ ExpiryTimer }) => {
        const before = Object.keys(timerListMap).length;
        const now = Date.now();
        for (let i = 0; i < 2000; i++) {
          const timer = new ExpiryTimer(() => now, () => {});
          timer.arm((now + 600_000 + i * 1.7) / 1000); // a distinct millisecond each
          timer.clear();
        }
        console.log(Object.keys(timerListMap).length - before);
      });`;
    const out = execFileSync(process.execPath, ['--expose-internals', '--conditions=development', '-e', script], {
      encoding: 'utf8',
    });
    const lists = Number(out.trim());
    assert.ok(lists <= 10, `${lists} timer lists left by 2,000 cleared timers`);
  });
});
