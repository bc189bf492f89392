// list-files' walk and cursor, called directly: resume by held walk and by name, validation of
// tampered cursors, the time budget, the bound on held walks, and what a page guarantees while
// the directory changes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  heldListingCount,
  MAX_HELD_LISTINGS,
  MAX_HELD_LISTINGS_PER_CLIENT,
} from '../../../mcp-server/src/tools/held-listings.ts';
import { type ListPageOptions, listFilesTool, listPage } from '../../../mcp-server/src/tools/list-files.ts';
import type { ToolContext } from '../../../mcp-server/src/tools/tool-spec.ts';

interface Page {
  isError?: boolean;
  text: string;
  paths: string[];
  nextCursor?: string;
}

describe('list-files walk and cursor', () => {
  let root: string;
  const ctx = (clientId: string): ToolContext => ({
    root,
    maxFileBytes: 1024,
    clientId,
    signal: new AbortController().signal,
    progress: async () => {},
  });
  async function page(args: Record<string, unknown>, options?: ListPageOptions, client = 'test-client'): Promise<Page> {
    const { result } = await listPage(listFilesTool.inputSchema.parse(args), ctx(client), options);
    const s = result.structuredContent as { entries: { path: string }[]; nextCursor?: string } | undefined;
    return {
      ...(result.isError ? { isError: true } : {}),
      text: (result.content[0] as { text: string }).text,
      paths: s?.entries.map((e) => e.path) ?? [],
      ...(s?.nextCursor ? { nextCursor: s.nextCursor } : {}),
    };
  }
  async function all(args: Record<string, unknown>, options?: ListPageOptions, client?: string): Promise<string[]> {
    const paths: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await page({ ...args, ...(cursor ? { cursor } : {}) }, options, client);
      assert.equal(p.isError, undefined, p.text);
      paths.push(...p.paths);
      cursor = p.nextCursor;
    } while (cursor);
    return paths;
  }
  const decode = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString());
  const encode = (wire: unknown) => Buffer.from(JSON.stringify(wire)).toString('base64url');

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'list-walk-'));
    mkdirSync(path.join(root, 'many'));
    for (let i = 0; i < 300; i++) writeFileSync(path.join(root, 'many', `n${i}`), '');
    mkdirSync(path.join(root, 'tree', 'a', 'b', 'c'), { recursive: true });
    writeFileSync(path.join(root, 'tree', 'a', 'b', 'c', 'leaf'), 'x');
    writeFileSync(path.join(root, 'tree', 'a', 'one'), 'x');
    symlinkSync('a', path.join(root, 'tree', 'link-to-a'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('walks recursively in pre-order, bounded by maxDepth, reporting symlinks without following them', async () => {
    const deep = await all({ directory: 'tree', recursive: true, limit: 2 });
    assert.deepEqual(
      [...deep].sort(),
      ['tree/a', 'tree/a/b', 'tree/a/b/c', 'tree/a/b/c/leaf', 'tree/a/one', 'tree/link-to-a'].sort(),
    );
    for (const p of deep.filter((x) => x !== 'tree/link-to-a')) {
      const parent = path.posix.dirname(p);
      if (parent !== 'tree') assert.ok(deep.indexOf(parent) < deep.indexOf(p), `${parent} before ${p}`);
    }
    const two = await all({ directory: 'tree', recursive: true, maxDepth: 2 });
    assert.deepEqual([...two].sort(), ['tree/a', 'tree/a/b', 'tree/a/one', 'tree/link-to-a']);
  });

  it('resumes a re-sent cursor by name with the same page', async () => {
    const first = await page({ directory: 'many', limit: 40 });
    const cursor = first.nextCursor!;
    const held = await page({ directory: 'many', limit: 40, cursor });
    const byName = await page({ directory: 'many', limit: 40, cursor });
    assert.deepEqual(byName.paths, held.paths);
    assert.equal(new Set([...first.paths, ...held.paths]).size, 80);
  });

  it('refuses tampered or foreign cursors with cursor_invalid', async () => {
    const { nextCursor } = await page({ directory: 'many', limit: 5 });
    const wire = decode(nextCursor!);
    const bad = [
      'garbage',
      encode({ ...wire, v: 2 }),
      encode({ ...wire, a: '../outside' }),
      encode({ ...wire, a: 'tree/a' }),
      encode({ ...wire, a: 'many/x/y' }),
      encode({ ...wire, a: 'many//n1' }),
      encode({ ...wire, h: 'x'.repeat(40) }),
      encode({ ...wire, i: '1:2' }),
    ];
    for (const cursor of bad) {
      const p = await page({ directory: 'many', limit: 5, cursor });
      assert.equal(p.isError, true, cursor);
      assert.match(p.text, /cursor/);
    }
    for (const args of [{ directory: 'tree' }, { directory: 'many', recursive: true }]) {
      const p = await page({ ...args, cursor: nextCursor });
      assert.match(p.text, /belongs to another listing/);
    }
  });

  it('refuses a cursor once its directory was replaced, or its resume point removed', async () => {
    mkdirSync(path.join(root, 'swapped'));
    for (const n of ['x1', 'x2', 'x3']) writeFileSync(path.join(root, 'swapped', n), '');
    const first = await page({ directory: 'swapped', limit: 1 });
    await page({ directory: 'swapped', limit: 1, cursor: first.nextCursor });
    unlinkSync(path.join(root, 'swapped', first.paths[0]!.split('/')[1]!));
    const removed = await page({ directory: 'swapped', limit: 1, cursor: first.nextCursor });
    assert.match(removed.text, /removed or replaced/);
    renameSync(path.join(root, 'swapped'), path.join(root, 'swapped-old'));
    mkdirSync(path.join(root, 'swapped'));
    const replaced = await page({ directory: 'swapped', limit: 1, cursor: first.nextCursor });
    assert.match(replaced.text, /has since been replaced/);
  });

  it('makes progress and lists every entry once when the time budget is spent at once', async () => {
    let pages = 0;
    const paths: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await page({ directory: 'many', limit: 1000, ...(cursor ? { cursor } : {}) }, { budgetMs: 0 });
      assert.ok(p.paths.length > 0 || p.nextCursor === undefined, 'each page makes progress');
      paths.push(...p.paths);
      cursor = p.nextCursor;
      pages++;
    } while (cursor);
    assert.ok(pages > 1, 'the budget ended pages early');
    assert.equal(new Set(paths).size, 300);
    assert.equal(paths.length, 300);
  });

  it(`holds at most ${MAX_HELD_LISTINGS} walks; a dropped walk's cursor still resumes by name`, async () => {
    const oldest = await page({ directory: 'many', limit: 7 });
    for (let i = 0; i < MAX_HELD_LISTINGS + 5; i++) await page({ directory: 'many', limit: 3 });
    assert.ok(heldListingCount() <= MAX_HELD_LISTINGS);
    const rest = await all({ directory: 'many', limit: 50, cursor: oldest.nextCursor });
    assert.equal(new Set([...oldest.paths, ...rest]).size, 300);
    assert.equal(oldest.paths.length + rest.length, 300);
  });

  it(`one client holds at most ${MAX_HELD_LISTINGS_PER_CLIENT} walks and cannot evict another client's`, async () => {
    const pause = (client: string) => page({ directory: 'many', limit: 3 }, undefined, client);
    const quiet = await page({ directory: 'many', limit: 7 }, undefined, 'quiet');
    assert.equal(heldListingCount('quiet'), 1);
    for (let i = 0; i < MAX_HELD_LISTINGS_PER_CLIENT + 5; i++) await pause('greedy');
    assert.equal(heldListingCount('greedy'), MAX_HELD_LISTINGS_PER_CLIENT, 'a client over its share loses its own');
    assert.equal(heldListingCount('quiet'), 1, "one client's walks evicted another client's");
    // Enough clients at their share to overfill the store evict among themselves, the greediest first.
    const crowd = MAX_HELD_LISTINGS / MAX_HELD_LISTINGS_PER_CLIENT + 1;
    for (let c = 0; c < crowd; c++) for (let i = 0; i < MAX_HELD_LISTINGS_PER_CLIENT; i++) await pause(`crowd-${c}`);
    assert.ok(heldListingCount() <= MAX_HELD_LISTINGS, `${heldListingCount()} walks held`);
    assert.equal(heldListingCount('quiet'), 1, 'the store overflowed onto the client holding the fewest walks');
    // Another client presenting the quiet client's cursor lists by name and leaves the walk in place.
    const thief = await page({ directory: 'many', limit: 7, cursor: quiet.nextCursor }, undefined, 'thief');
    assert.equal(thief.paths.length, 7);
    assert.equal(heldListingCount('quiet'), 1);
    const rest = await all({ directory: 'many', limit: 50, cursor: quiet.nextCursor }, undefined, 'quiet');
    assert.equal(new Set([...quiet.paths, ...rest]).size, 300);
    assert.equal(quiet.paths.length + rest.length, 300);
  });

  it('lists every entry present throughout exactly once while others are added and removed', async () => {
    mkdirSync(path.join(root, 'churn'));
    const stable = Array.from({ length: 200 }, (_, i) => `s${i}`);
    for (const n of stable) writeFileSync(path.join(root, 'churn', n), '');
    for (let i = 0; i < 100; i++) writeFileSync(path.join(root, 'churn', `t${i}`), '');
    const seen: string[] = [];
    let cursor: string | undefined;
    let round = 0;
    do {
      const p = await page({ directory: 'churn', limit: 10, ...(cursor ? { cursor } : {}) });
      seen.push(...p.paths);
      cursor = p.nextCursor;
      // Between pages: remove some temporary entries, add new ones.
      for (let k = 0; k < 3; k++) {
        const gone = `t${round * 3 + k}`;
        if (gone < 't100') rmSync(path.join(root, 'churn', gone), { force: true });
        writeFileSync(path.join(root, 'churn', `new${round}-${k}`), '');
      }
      round++;
    } while (cursor);
    const names = seen.map((p) => p.slice('churn/'.length));
    for (const n of stable) assert.equal(names.filter((x) => x === n).length, 1, n);
    assert.equal(new Set(names).size, names.length, 'no name twice');
  });
});
