import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchPerTurn } from '../../../mcp-server/src/log-destination.ts';

function recorder() {
  const writes: string[] = [];
  return { writes, target: { write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WritableStream };
}

describe('batchPerTurn', () => {
  it('joins the lines of one event-loop turn into one write, in order', async () => {
    const { writes, target } = recorder();
    const d = batchPerTurn(target);
    d.write('a\n');
    d.write('b\n');
    assert.deepEqual(writes, [], 'nothing written within the turn');
    await new Promise((r) => setImmediate(r));
    d.write('c\n');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(writes, ['a\nb\n', 'c\n']);
  });

  it('flush writes what is pending at once (process exit)', () => {
    const { writes, target } = recorder();
    const d = batchPerTurn(target);
    d.write('last\n');
    d.flush();
    d.flush();
    assert.deepEqual(writes, ['last\n']);
  });
});
