import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isServerError } from '../../../mcp-server/src/errors.ts';
import { isInside, normalizeRelativePath, openInsideRoot } from '../../../mcp-server/src/tools/path-guard.ts';

function rejectsWith(code: string, input: string): void {
  assert.throws(
    () => normalizeRelativePath(input),
    (err: unknown) => isServerError(err) && err.code === code,
    `${JSON.stringify(input)} should fail with ${code}`,
  );
}

describe('normalizeRelativePath (pure)', () => {
  it('accepts plain relative paths and normalizes them', () => {
    assert.equal(normalizeRelativePath('a/b.txt'), 'a/b.txt');
    assert.equal(normalizeRelativePath('./a//b/'), 'a/b');
    assert.equal(normalizeRelativePath('a/../b'), 'b');
    assert.equal(normalizeRelativePath('.'), '.');
    assert.equal(normalizeRelativePath('a/..'), '.');
  });
  it('treats encoded-looking names as plain names', () => {
    assert.equal(normalizeRelativePath('%2e%2e/x'), '%2e%2e/x');
    assert.equal(normalizeRelativePath('..%2fetc'), '..%2fetc');
    assert.equal(normalizeRelativePath('...'), '...');
    assert.equal(normalizeRelativePath('~'), '~');
  });
  it('refuses escapes, absolute, drive, UNC, backslashes, NUL and empty paths', () => {
    rejectsWith('path_outside_root', '..');
    rejectsWith('path_outside_root', '../x');
    rejectsWith('path_outside_root', 'a/../../x');
    rejectsWith('path_invalid', '/etc/passwd');
    rejectsWith('path_invalid', 'C:\\x');
    rejectsWith('path_invalid', 'c:/x');
    rejectsWith('path_invalid', '\\\\server\\share');
    rejectsWith('path_invalid', '//server/share');
    rejectsWith('path_invalid', 'a\\..\\..\\x');
    rejectsWith('path_invalid', 'a\0b');
    rejectsWith('path_invalid', '');
    rejectsWith('path_invalid', '   ');
    rejectsWith('path_invalid', 'a/'.repeat(3000));
  });
  it('checks containment with a separator-terminated prefix (CVE-2025-53110)', () => {
    assert.equal(isInside('/data', '/data'), true);
    assert.equal(isInside('/data', '/data/x'), true);
    assert.equal(isInside('/data', '/data_evil/x'), false);
    assert.equal(isInside('/data', '/database'), false);
  });
});

describe('openInsideRoot (I/O)', () => {
  let base: string;
  let root: string;

  before(() => {
    base = realpathSync(mkdtempSync(path.join(tmpdir(), 'pg-')));
    root = path.join(base, 'data');
    mkdirSync(path.join(root, 'sub', 'deeper'), { recursive: true });
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    writeFileSync(path.join(root, 'sub', 'b.txt'), 'b');
    mkdirSync(path.join(base, 'data_evil'));
    writeFileSync(path.join(base, 'data_evil', 'secret.txt'), 'secret');
    writeFileSync(path.join(base, 'outside.txt'), 'outside');
    symlinkSync(path.join(base, 'outside.txt'), path.join(root, 'to-outside-file'));
    symlinkSync(base, path.join(root, 'to-outside-dir'));
    symlinkSync(path.join(base, 'data_evil'), path.join(root, 'to-sibling'));
    symlinkSync('a.txt', path.join(root, 'link-in'));
    symlinkSync('link-in', path.join(root, 'chain-in'));
    symlinkSync('to-outside-file', path.join(root, 'chain-out'));
    symlinkSync('loop-b', path.join(root, 'loop-a'));
    symlinkSync('loop-a', path.join(root, 'loop-b'));
    symlinkSync('/proc/self/root/etc', path.join(root, 'proc-link'));
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    let deep = root;
    for (let i = 0; i < 40; i++) deep = path.join(deep, `d${i}`);
    mkdirSync(deep, { recursive: true });
    writeFileSync(path.join(deep, 'leaf.txt'), 'leaf');
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  async function refused(rel: string, kind: 'file' | 'directory', code: string): Promise<void> {
    await assert.rejects(openInsideRoot(root, rel, kind), (err: unknown) => {
      assert.ok(isServerError(err), `expected ServerError, got ${err}`);
      assert.equal(err.code, code, `${rel}: ${err.message}`);
      assert.ok(!err.message.includes(base), `message leaks host path: ${err.message}`);
      return true;
    });
  }

  it('opens a regular file and a directory inside the root', async () => {
    const f = await openInsideRoot(root, 'a.txt', 'file');
    assert.equal(f.stats.size, 5);
    assert.equal(f.relPath, 'a.txt');
    await f.handle.close();
    const d = await openInsideRoot(root, 'sub', 'directory');
    assert.ok(d.stats.isDirectory());
    await d.handle.close();
    const r = await openInsideRoot(root, '.', 'directory');
    await r.handle.close();
  });
  it('follows symlinks and chains that stay inside', async () => {
    for (const rel of ['link-in', 'chain-in']) {
      const f = await openInsideRoot(root, rel, 'file');
      assert.equal(f.stats.size, 5);
      await f.handle.close();
    }
  });
  it('refuses symlinks resolving outside (CVE-2025-53109), to a sibling-prefix dir, and chains out', async () => {
    await refused('to-outside-file', 'file', 'symlink_refused');
    await refused('to-outside-dir', 'directory', 'symlink_refused');
    await refused('to-outside-dir/outside.txt', 'file', 'symlink_refused');
    await refused('to-sibling/secret.txt', 'file', 'symlink_refused');
    await refused('chain-out', 'file', 'symlink_refused');
    await refused('proc-link/hostname', 'file', 'symlink_refused');
  });
  it('refuses a symlink loop', async () => {
    await refused('loop-a', 'file', 'symlink_refused');
  });
  it('refuses a FIFO without hanging', async () => {
    const t0 = Date.now();
    await refused('fifo', 'file', 'special_file');
    assert.ok(Date.now() - t0 < 1000);
  });
  it('refuses the wrong kind, missing files and escapes', async () => {
    await refused('sub', 'file', 'not_a_file');
    await refused('a.txt', 'directory', 'not_a_directory');
    await refused('missing.txt', 'file', 'not_found');
    await refused('a.txt/x', 'file', 'not_found');
    await refused('../outside.txt', 'file', 'path_outside_root');
    await refused('../data_evil/secret.txt', 'file', 'path_outside_root');
    await refused(`${'x'.repeat(300)}.txt`, 'file', 'path_invalid');
  });
  it('opens a deep path', async () => {
    const rel = `${Array.from({ length: 40 }, (_, i) => `d${i}`).join('/')}/leaf.txt`;
    const f = await openInsideRoot(root, rel, 'file');
    assert.equal(f.stats.size, 4);
    await f.handle.close();
  });
});
