// The open-file cache of read-file against an attacker who can change the served tree: each case
// warms the cache (a proven hit), then swaps, replaces, moves or deletes what the cached path names.
// The next read must answer what the path names now (new bytes, or the guard's refusal), never
// the held file. A race case swaps a file and a directory for symlinks to the outside
// (renameat2 RENAME_EXCHANGE) while thousands of cached reads run.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, beforeEach, describe, it } from 'node:test';
import { listFilesTool } from '../../../mcp-server/src/tools/list-files.ts';
import { clearOpenFileCache, MAX_ENTRIES, openFileCacheStats } from '../../../mcp-server/src/tools/open-file-cache.ts';
import { readFileTool } from '../../../mcp-server/src/tools/read-file.ts';
import type { ToolContext } from '../../../mcp-server/src/tools/tool-spec.ts';

const CANARY = 'CANARY-OUTSIDE';
const HELPER = path.join(import.meta.dirname, '..', '..', 'support', 'rename-exchange.py');
/** Reads of a race case: at least the first, then until the cache has taken part, at most the second. */
const MIN_READS = 4000;
const MAX_READS = 40_000;
const MAX_MS = 15_000;

describe('open-file cache: a changed path is never served from the cache', () => {
  let base: string;
  let root: string;
  let outside: string;
  const ctx = (): ToolContext => ({
    root,
    maxFileBytes: 1 << 20,
    clientId: 'test-client',
    signal: new AbortController().signal,
    progress: async () => {},
  });
  /** The text read-file answers for `filePath` (the file's text, or the error message). */
  const read = async (filePath: string): Promise<{ text: string; code: string | undefined }> => {
    const outcome = await readFileTool.run(readFileTool.inputSchema.parse({ filePath }), ctx());
    const first = outcome.result.content[0];
    return { text: first?.type === 'text' ? first.text : JSON.stringify(first), code: outcome.code };
  };
  /** The text list-files answers for `directory` (the listing's JSON, or the error message). */
  const list = async (directory: string): Promise<{ text: string; code: string | undefined }> => {
    const outcome = await listFilesTool.run(listFilesTool.inputSchema.parse({ directory }), ctx());
    const first = outcome.result.content[0];
    return { text: first?.type === 'text' ? first.text : JSON.stringify(first), code: outcome.code };
  };
  /** Reads twice and checks the second read was a cache hit: the case starts from a warm entry. */
  const warm = async (filePath: string, expected: string): Promise<void> => {
    assert.equal((await read(filePath)).text, expected);
    const hits = openFileCacheStats().hits;
    assert.equal((await read(filePath)).text, expected);
    assert.equal(openFileCacheStats().hits, hits + 1, 'the second read was not served from the cache');
  };

  before(() => {
    base = mkdtempSync(path.join(tmpdir(), 'ofc-'));
    root = path.join(base, 'data');
    outside = path.join(base, 'outside');
    mkdirSync(root);
    mkdirSync(path.join(outside, 'dir'), { recursive: true });
    writeFileSync(path.join(outside, 'secret.txt'), `${CANARY} file`);
    writeFileSync(path.join(outside, 'dir', 'f.txt'), `${CANARY} in dir`);
    // A name only the outside directory has: a listing that shows it listed the outside.
    writeFileSync(path.join(outside, 'dir', `${CANARY}.txt`), 'x');
  });
  beforeEach(() => {
    clearOpenFileCache();
    rmSync(root, { recursive: true, force: true });
    mkdirSync(path.join(root, 'dir'), { recursive: true });
    writeFileSync(path.join(root, 'f.txt'), 'inside');
    writeFileSync(path.join(root, 'dir', 'f.txt'), 'inside dir');
  });
  after(() => {
    clearOpenFileCache();
    rmSync(base, { recursive: true, force: true });
  });

  it('serves the new file after a rename over the cached one', async () => {
    await warm('f.txt', 'inside');
    writeFileSync(path.join(root, 'new.txt'), 'replaced');
    renameSync(path.join(root, 'new.txt'), path.join(root, 'f.txt'));
    assert.equal((await read('f.txt')).text, 'replaced');
  });

  it('shares one proof among the reads begun in one turn, and proves again in the next', async () => {
    await warm('f.txt', 'inside');
    const before = openFileCacheStats();
    // Begun in one synchronous run, as the frames of one socket read are served.
    const texts = await Promise.all([read('f.txt'), read('f.txt'), read('f.txt')]);
    assert.deepEqual(
      texts.map((t) => t.text),
      ['inside', 'inside', 'inside'],
    );
    const during = openFileCacheStats();
    assert.equal(during.hits, before.hits + 3);
    assert.equal(during.proofs, before.proofs + 1, 'the hits of one turn did not share its proof');
    // Replaced after the turn: the next read proves again and serves the new file.
    writeFileSync(path.join(root, 'new.txt'), 'replaced');
    renameSync(path.join(root, 'new.txt'), path.join(root, 'f.txt'));
    assert.equal((await read('f.txt')).text, 'replaced');
  });

  it('serves new bytes written in place', async () => {
    await warm('f.txt', 'inside');
    writeFileSync(path.join(root, 'f.txt'), 'rewritten');
    assert.equal((await read('f.txt')).text, 'rewritten');
  });

  it('reads a small file inline once read whole, never a copy older than a write', async () => {
    await warm('f.txt', 'inside');
    const warmHits = openFileCacheStats().warmHits;
    assert.equal((await read('f.txt')).text, 'inside');
    assert.equal(openFileCacheStats().warmHits, warmHits + 1, 'the read after a whole read was not inline');
    writeFileSync(path.join(root, 'f.txt'), 'INSIDE');
    assert.equal((await read('f.txt')).text, 'INSIDE');
    // A page of a file is never read inline: only whole reads warm an entry.
    writeFileSync(path.join(root, 'big.txt'), 'x'.repeat(100));
    for (let i = 0; i < 3; i++)
      await readFileTool.run(readFileTool.inputSchema.parse({ filePath: 'big.txt', offset: 0, length: 10 }), ctx());
    assert.equal(openFileCacheStats().warmHits, warmHits + 1);
  });

  it('refuses the file once it is a symlink to the outside', async () => {
    await warm('f.txt', 'inside');
    unlinkSync(path.join(root, 'f.txt'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'f.txt'));
    const r = await read('f.txt');
    assert.equal(r.code, 'symlink_refused');
    assert.ok(!r.text.includes(CANARY));
  });

  it('refuses once a parent directory is a symlink to the outside', async () => {
    await warm('dir/f.txt', 'inside dir');
    renameSync(path.join(root, 'dir'), path.join(root, 'old-dir'));
    symlinkSync(path.join(outside, 'dir'), path.join(root, 'dir'));
    const r = await read('dir/f.txt');
    assert.equal(r.code, 'symlink_refused');
    assert.ok(!r.text.includes(CANARY));
  });

  it('refuses the cached file itself once it was moved outside and linked back (same inode)', async () => {
    await warm('f.txt', 'inside');
    renameSync(path.join(root, 'f.txt'), path.join(outside, 'moved.txt'));
    symlinkSync(path.join(outside, 'moved.txt'), path.join(root, 'f.txt'));
    assert.equal((await read('f.txt')).code, 'symlink_refused');
    rmSync(path.join(outside, 'moved.txt'));
  });

  it('serves the new directory when a parent was replaced by another inside one', async () => {
    await warm('dir/f.txt', 'inside dir');
    renameSync(path.join(root, 'dir'), path.join(root, 'old-dir'));
    mkdirSync(path.join(root, 'dir'));
    writeFileSync(path.join(root, 'dir', 'f.txt'), 'other dir');
    assert.equal((await read('dir/f.txt')).text, 'other dir');
  });

  it('answers not_found once the file is deleted', async () => {
    await warm('f.txt', 'inside');
    unlinkSync(path.join(root, 'f.txt'));
    assert.equal((await read('f.txt')).code, 'not_found');
  });

  it('opens through the guard again after a permission change (ctime moved)', async () => {
    await warm('f.txt', 'inside');
    const misses = openFileCacheStats().misses;
    chmodSync(path.join(root, 'f.txt'), 0o400);
    assert.equal((await read('f.txt')).text, 'inside');
    assert.equal(openFileCacheStats().misses, misses + 1, 'the read after chmod was served from the cache');
  });

  it('never caches a path that goes through a symlink', async () => {
    symlinkSync(path.join(root, 'dir'), path.join(root, 'link'));
    await read('link/f.txt');
    const hits = openFileCacheStats().hits;
    assert.equal((await read('link/f.txt')).text, 'inside dir');
    assert.equal(openFileCacheStats().hits, hits);
  });

  it('list-files: a held directory renamed away and replaced by a symlink to the outside is refused', async () => {
    assert.match((await list('dir')).text, /"f\.txt"/);
    const hits = openFileCacheStats().hits;
    assert.match((await list('dir')).text, /"f\.txt"/);
    assert.equal(openFileCacheStats().hits, hits + 1, 'the second listing did not use the held directory');
    renameSync(path.join(root, 'dir'), path.join(root, 'old-dir'));
    symlinkSync(path.join(outside, 'dir'), path.join(root, 'dir'));
    const r = await list('dir');
    assert.equal(r.code, 'symlink_refused');
    assert.ok(!r.text.includes(CANARY));
  });

  it('list-files: a name added to a held directory is listed at once', async () => {
    await list('dir');
    await list('dir');
    writeFileSync(path.join(root, 'dir', 'added.txt'), 'a');
    assert.match((await list('dir')).text, /"added\.txt"/);
  });

  it(`holds at most ${MAX_ENTRIES} descriptors however many files are read`, async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < MAX_ENTRIES + 100; i++) writeFileSync(path.join(root, `n${i}.txt`), `n${i}`);
    for (let i = 0; i < MAX_ENTRIES + 100; i++) assert.equal((await read(`n${i}.txt`)).text, `n${i}`);
    assert.ok(openFileCacheStats().held <= MAX_ENTRIES);
    assert.ok(fds() - before <= MAX_ENTRIES, `${fds() - before} descriptors more than before`);
    clearOpenFileCache();
    assert.equal(openFileCacheStats().held, 0);
    assert.ok(fds() - before <= 0, 'clearing left descriptors open');
  });

  for (const [what, target, link, op] of [
    ['a file', 'f.txt', 'f.txt', read],
    ['a parent directory', 'dir', 'dir/f.txt', read],
    ['a listed directory', 'dir', 'dir', list],
  ] as const) {
    it(`race: ${what} swapped for a symlink to the outside while cached reads run`, async (t) => {
      const linkName = `${target}-link`;
      symlinkSync(path.join(outside, target === 'f.txt' ? 'secret.txt' : 'dir'), path.join(root, linkName));
      const swapper: ChildProcess = spawn('python3', [HELPER, path.join(root, target), path.join(root, linkName)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: swapper.stdout! });
      let swaps = '';
      lines.on('line', (l) => {
        if (l.startsWith('swaps ')) swaps = l.slice(6);
      });
      const [first] = (await Promise.race([once(lines, 'line'), once(swapper, 'exit')])) as [unknown];
      assert.equal(first, 'ready', 'the swap helper did not start (renameat2 refused?)');
      const hits0 = openFileCacheStats().hits;
      let reads = 0;
      let leaks = 0;
      let served = 0;
      let refused = 0;
      const t0 = performance.now();
      try {
        // The swapper is fast enough that a cache hit (two reads within one swap) can take more than
        // the minimum: go on until one happened, within the bounds.
        const raced = () => served > 0 && refused > 0 && openFileCacheStats().hits > hits0;
        while (reads < MAX_READS && performance.now() - t0 < MAX_MS && (reads < MIN_READS || !raced())) {
          const r = await op(link);
          reads++;
          if (r.text.includes(CANARY)) leaks++;
          else if (r.code === undefined) served++;
          else refused++;
        }
      } finally {
        swapper.kill('SIGTERM');
        await once(swapper, 'exit');
      }
      const hits = openFileCacheStats().hits - hits0;
      t.diagnostic(`reads ${reads}, swaps ${swaps}, served ${served}, refused ${refused}, cache hits ${hits}`);
      assert.equal(leaks, 0, `${leaks} of ${reads} reads returned outside bytes or names`);
      // The race was real and the cache took part in it.
      assert.ok(served > 0 && refused > 0, `served ${served}, refused ${refused}`);
      assert.ok(hits > 0, 'no read was served from the cache');
      assert.ok(Number(swaps) > 0);
    });
  }
});
