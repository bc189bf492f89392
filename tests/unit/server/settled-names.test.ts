// The margin that makes a remembered list exact: a directory whose last change is closer to the
// fstat than SETTLED_MS (a change in the same timestamp tick could follow unseen) is never kept.
import assert from 'node:assert/strict';
import type { Dirent } from 'node:fs';
import { describe, it } from 'node:test';
import {
  keepSettledNames,
  MAX_SETTLED_NAMES,
  SETTLED_MS,
  settledNames,
} from '../../../mcp-server/src/tools/settled-names.ts';

const list = (n: number): Dirent[] => Array.from({ length: n }, (_, i) => ({ name: `f${i}` }) as Dirent);

describe('settled directory names', () => {
  it('keeps a list only when the last change was SETTLED_MS or more before the fstat', () => {
    const now = Date.now();
    keepSettledNames('recent', list(2), now - SETTLED_MS + 1, now);
    assert.equal(settledNames('recent'), undefined);
    keepSettledNames('future', list(2), now + 60_000, now); // a clock set back since the change
    assert.equal(settledNames('future'), undefined);
    const names = list(2);
    keepSettledNames('old', names, now - SETTLED_MS, now);
    assert.equal(settledNames('old'), names);
  });

  it('holds a bounded number of names, forgetting the oldest lists first', () => {
    const now = Date.now() - SETTLED_MS;
    for (let i = 0; i < 40; i++) keepSettledNames(`dir${i}`, list(1000), now - SETTLED_MS, now);
    assert.equal(settledNames('dir0'), undefined, 'the oldest list was kept past the bound');
    assert.equal(settledNames('dir39')?.length, 1000);
    const kept = Array.from({ length: 40 }, (_, i) => settledNames(`dir${i}`)).filter((l) => l !== undefined);
    assert.ok(kept.length * 1000 <= MAX_SETTLED_NAMES, `${kept.length} lists of 1,000 names kept`);
  });
});
