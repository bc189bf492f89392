// The turn memo forgets before Node can read a socket again: by the end of the microtasks of the
// turn that filled it, even for entries made after the first; never sooner than the synchronous run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TurnMemo } from '../../../mcp-server/src/tools/turn-memo.ts';

test('what a turn memo holds lasts the synchronous run and is gone by the next turn', async () => {
  const memo = new TurnMemo<string, number>();
  memo.set('a', 1);
  memo.set('b', 2);
  assert.equal(memo.get('a'), 1);
  assert.equal(memo.get('b'), 2);
  await null; // the microtask queued at the first entry has run
  assert.equal(memo.get('a'), undefined);
  assert.equal(memo.get('b'), undefined);
});

test('entries made in a later microtask of the same turn are gone by the next turn too', async () => {
  const memo = new TurnMemo<string, number>();
  memo.set('a', 1);
  await null;
  memo.set('late', 2);
  assert.equal(memo.get('late'), 2);
  await nextTurn();
  assert.equal(memo.get('late'), undefined);
});

test('a deleted entry is gone at once', () => {
  const memo = new TurnMemo<object, string>();
  const key = {};
  memo.set(key, 'x');
  memo.delete(key);
  assert.equal(memo.get(key), undefined);
});
