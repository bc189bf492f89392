// list-files reads a small directory and lstats its entries inline when the same directory (same names:
// same mtime and ctime) had all its entries lstat'ed on the threadpool within the last second. The
// inline lstat is a real lstat, so sizes and dates are current; a changed directory is not warm.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inlineLstatCount, inlineReadCount } from '../../../mcp-server/src/tools/held-dir.ts';
import { listFilesTool } from '../../../mcp-server/src/tools/list-files.ts';
import {
  entryHandleCount,
  HANDLE_IDLE_MS,
  MAX_ENTRY_HANDLES,
  SETTLED_MS,
  settledNamesHits,
} from '../../../mcp-server/src/tools/settled-names.ts';
import type { ToolContext } from '../../../mcp-server/src/tools/tool-spec.ts';

describe('list-files in a warm directory', () => {
  let base: string;
  let dir: string;
  const ctx = (): ToolContext => ({
    root: base,
    maxFileBytes: 1 << 20,
    clientId: 'test-client',
    signal: new AbortController().signal,
    progress: async () => {},
  });
  /** name -> size of a listing of 'd'. */
  const list = async (args: Record<string, unknown> = {}): Promise<Map<string, number>> => {
    const outcome = await listFilesTool.run(listFilesTool.inputSchema.parse({ directory: 'd', ...args }), ctx());
    const entries = (outcome.result.structuredContent as { entries: { name: string; size: number }[] }).entries;
    return new Map(entries.map((e) => [e.name, e.size]));
  };

  before(() => {
    base = mkdtempSync(path.join(tmpdir(), 'list-warm-'));
    dir = path.join(base, 'd');
    mkdirSync(dir);
    for (let i = 0; i < 5; i++) writeFileSync(path.join(dir, `f${i}`), 'x'.repeat(i));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  it('answers inline once warm, with current sizes, and goes to the threadpool again when names change', async () => {
    assert.equal((await list()).get('f3'), 3);
    const before = inlineLstatCount();
    const reads = inlineReadCount();
    assert.equal((await list()).get('f3'), 3);
    assert.equal(inlineLstatCount(), before + 5, 'the second listing did not lstat inline');
    assert.equal(inlineReadCount(), reads + 1, 'the second listing did not read the directory inline');
    // Same names, new contents: still warm, and the inline lstat sees the new size.
    writeFileSync(path.join(dir, 'f3'), 'x'.repeat(300));
    assert.equal((await list()).get('f3'), 300);
    assert.equal(inlineLstatCount(), before + 10);
    // A new name changes the directory: the next listing is not inline and shows it.
    writeFileSync(path.join(dir, 'f9'), 'new');
    const changed = await list();
    assert.equal(changed.get('f9'), 3);
    assert.equal(inlineLstatCount(), before + 10);
    assert.equal(inlineReadCount(), reads + 2);
  });

  it("reports each entry's current modification time, in UTC ISO 8601 with milliseconds", async () => {
    const modified = async () => {
      const outcome = await listFilesTool.run(listFilesTool.inputSchema.parse({ directory: 'd' }), ctx());
      const entries = (outcome.result.structuredContent as { entries: { name: string; modified: string }[] }).entries;
      return entries.find((e) => e.name === 'f1')?.modified;
    };
    for (const iso of ['2001-02-03T04:05:06.789Z', '2030-12-31T23:59:59.001Z', '2001-02-03T04:05:06.789Z']) {
      const at = new Date(iso);
      utimesSync(path.join(dir, 'f1'), at, at);
      assert.equal(await modified(), iso);
    }
  });

  it('a walk resumed by name (a cursor used again) skips names without lstat: no warm directory from it', async () => {
    writeFileSync(path.join(dir, 'g'), 'g'); // a new state of the directory: not warm yet
    const page = async (cursor?: string) => {
      const args = { directory: 'd', limit: 2, ...(cursor ? { cursor } : {}) };
      const outcome = await listFilesTool.run(listFilesTool.inputSchema.parse(args), ctx());
      return (outcome.result.structuredContent as { nextCursor?: string }).nextCursor;
    };
    const c1 = await page();
    assert.ok(c1);
    assert.ok(await page(c1)); // takes the held walk: c1 can now only resume by name
    const count = inlineLstatCount();
    const resumed = await listFilesTool.run(
      listFilesTool.inputSchema.parse({ directory: 'd', limit: 5000, cursor: c1 }),
      ctx(),
    );
    assert.ok(!resumed.result.isError, JSON.stringify(resumed.result));
    await list();
    assert.equal(inlineLstatCount(), count, 'a listing after a walk that skipped names was answered inline');
  });

  it('takes the names of a settled directory from memory, and sees a name added, removed or renamed at once', async () => {
    const names = async (dirName: string) => {
      const outcome = await listFilesTool.run(listFilesTool.inputSchema.parse({ directory: dirName }), ctx());
      const entries = (outcome.result.structuredContent as { entries: { name: string; size: number }[] }).entries;
      return entries.map((e) => `${e.name}:${e.size}`).sort();
    };
    const settled = path.join(base, 'settled');
    mkdirSync(settled);
    for (const n of ['a', 'b', 'c']) writeFileSync(path.join(settled, n), n);
    symlinkSync('b', path.join(settled, 'l'));
    // Changed just now: read every time, never remembered.
    const fresh = settledNamesHits();
    await names('settled');
    await names('settled');
    assert.equal(settledNamesHits(), fresh, 'names of a directory changed within SETTLED_MS were remembered');
    await sleep(SETTLED_MS + 200);
    assert.deepEqual(await names('settled'), ['a:1', 'b:1', 'c:1', 'l:1']); // read, and now remembered
    const hits = settledNamesHits();
    // Listed again and again: entry descriptors, whose fstat must report what lstat does now.
    for (let i = 0; i < 3; i++) assert.deepEqual(await names('settled'), ['a:1', 'b:1', 'c:1', 'l:1']);
    assert.ok(entryHandleCount() >= 4, `${entryHandleCount()} entry descriptors held`);
    writeFileSync(path.join(settled, 'b'), 'bbbb'); // contents only: same names, current size
    assert.deepEqual(await names('settled'), ['a:1', 'b:4', 'c:1', 'l:1']);
    const types = await listFilesTool.run(listFilesTool.inputSchema.parse({ directory: 'settled' }), ctx());
    const entries = (types.result.structuredContent as { entries: { name: string; type: string }[] }).entries;
    assert.equal(entries.find((e) => e.name === 'l')?.type, 'symlink', 'a symlink entry was followed');
    assert.equal(settledNamesHits(), hits + 5, 'a settled directory was read again');
    writeFileSync(path.join(settled, 'd'), 'd');
    assert.deepEqual(await names('settled'), ['a:1', 'b:4', 'c:1', 'd:1', 'l:1']);
    renameSync(path.join(settled, 'a'), path.join(settled, 'z'));
    assert.deepEqual(await names('settled'), ['b:4', 'c:1', 'd:1', 'l:1', 'z:1']);
    unlinkSync(path.join(settled, 'c'));
    assert.deepEqual(await names('settled'), ['b:4', 'd:1', 'l:1', 'z:1']);
    assert.equal(settledNamesHits(), hits + 5, 'names were taken from memory after they changed');
    // Idle entry descriptors are closed (they must not keep a deleted file's inode alive).
    await sleep(2 * HANDLE_IDLE_MS + 200);
    assert.equal(entryHandleCount(), 0);
  });

  it('holds at most MAX_ENTRY_HANDLES entry descriptors over many settled directories, a FIFO among them', async () => {
    const dirs = Array.from({ length: 10 }, (_, i) => `many-${i}`);
    for (const d of dirs) {
      mkdirSync(path.join(base, d));
      for (let f = 0; f < 64; f++) writeFileSync(path.join(base, d, `f${f}`), '');
    }
    unlinkSync(path.join(base, 'many-0', 'f0'));
    execFileSync('mkfifo', [path.join(base, 'many-0', 'f0')]); // O_PATH never opens it for reading
    await sleep(SETTLED_MS + 200);
    let most = 0;
    for (let round = 0; round < 4; round++) {
      for (const d of dirs) {
        const outcome = await listFilesTool.run(listFilesTool.inputSchema.parse({ directory: d }), ctx());
        const entries = (outcome.result.structuredContent as { entries: { name: string; type: string }[] }).entries;
        assert.equal(entries.length, 64, d);
        if (d === 'many-0') assert.equal(entries.find((e) => e.name === 'f0')?.type, 'other');
        most = Math.max(most, entryHandleCount());
      }
    }
    assert.ok(most > 0, 'no entry descriptors were held');
    assert.ok(most <= MAX_ENTRY_HANDLES, `${most} entry descriptors held at once`);
  });
});
