// HTTP requests read in one event-loop iteration are dispatched together in its check phase, in
// one turn: what one of them establishes in a turn memo the next one finds; a throwing job is
// reported and the rest still run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckPhaseBatch } from '../../../mcp-server/src/http/check-phase-batch.ts';
import { TurnMemo } from '../../../mcp-server/src/tools/turn-memo.ts';

test('jobs queued in one iteration run in order in one turn, after the code that queued them', async () => {
  const errors: unknown[] = [];
  const batch = new CheckPhaseBatch((err) => errors.push(err));
  const memo = new TurnMemo<string, number>();
  const seen: string[] = [];
  const done = new Promise<void>((resolve) => {
    batch.add(() => {
      seen.push('first');
      memo.set('proof', 1);
    });
    batch.add(() => seen.push(`second sees ${memo.get('proof')}`));
    batch.add(() => {
      throw new Error('boom');
    });
    batch.add(() => {
      seen.push('fourth');
      resolve();
    });
  });
  seen.push('queued');
  await done;
  assert.deepEqual(seen, ['queued', 'first', 'second sees 1', 'fourth']);
  assert.equal((errors[0] as Error).message, 'boom');
  // The turn is over: the next batch establishes again.
  await new Promise<void>((resolve) => batch.add(resolve));
  assert.equal(memo.get('proof'), undefined);
});
