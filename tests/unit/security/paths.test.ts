// Path escapes through the real read-file and list-files tools over a real connection: every case
// is an isError result, shows nothing from outside the served directory, and answers quickly
// (a FIFO must not hang a read).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';
import { connect, initialize, isRefused, type Reply, request } from '../server/helpers/ws-client.ts';

const SECRET = 'TOP-SECRET-OUTSIDE-7f3a';
const SECRET_NAME = 'secret-outside-name';
/** Every answer must arrive within this bound. */
const ANSWER_MS = 3000;

describe('path escapes through read-file and list-files', () => {
  let issuer: LocalIssuer;
  let server: TestServer;
  let ws: WebSocket;
  let base: string;
  let nextId = 1;

  before(async () => {
    // base/data is served; base/data_evil is a sibling sharing the prefix (CVE-2025-53110).
    base = mkdtempSync(path.join(tmpdir(), 'sec-paths-'));
    const root = path.join(base, 'data');
    mkdirSync(path.join(root, 'sub', 'deeper'), { recursive: true });
    writeFileSync(path.join(root, 'inside.txt'), 'inside');
    mkdirSync(path.join(base, 'data_evil', SECRET_NAME), { recursive: true });
    writeFileSync(path.join(base, 'data_evil', 'secret'), SECRET);
    writeFileSync(path.join(base, 'outside.txt'), SECRET);
    symlinkSync(path.join(base, 'outside.txt'), path.join(root, 'link-file'));
    symlinkSync(path.join(base, 'data_evil'), path.join(root, 'link-dir'));
    symlinkSync('../outside.txt', path.join(root, 'link-relative'));
    symlinkSync('chain2', path.join(root, 'chain1'));
    symlinkSync('chain3', path.join(root, 'chain2'));
    symlinkSync('../outside.txt', path.join(root, 'chain3'));
    symlinkSync('loop-b', path.join(root, 'loop-a'));
    symlinkSync('loop-a', path.join(root, 'loop-b'));
    symlinkSync('/proc/self/root', path.join(root, 'proc-root'));
    symlinkSync('/proc/self/cwd', path.join(root, 'proc-cwd'));
    symlinkSync('/etc/passwd', path.join(root, 'etc-passwd'));
    symlinkSync('/', path.join(root, 'slash'));
    symlinkSync('../../..', path.join(root, 'sub', 'deeper', 'up'));
    symlinkSync('../../data_evil', path.join(root, 'sub', 'evil'));
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    symlinkSync('fifo', path.join(root, 'link-to-fifo'));
    symlinkSync('/dev/zero', path.join(root, 'dev-zero'));
    issuer = await startLocalIssuer();
    // The rate limit is tested elsewhere; here every call must reach the tool.
    server = await startTestServer(issuer, root, { RATE_LIMIT_BURST: '1000' });
    const opened = await connect(server.wsUrl, { token: await issuer.sign() });
    assert.ok(!isRefused(opened));
    ws = opened;
    await initialize(ws);
  });
  after(async () => {
    ws.close();
    await server.close();
    await issuer.close();
    rmSync(base, { recursive: true, force: true });
  });

  async function call(tool: string, args: Record<string, unknown>): Promise<Reply> {
    const t0 = Date.now();
    const reply = await Promise.race([
      request(ws, nextId++, 'tools/call', { name: tool, arguments: args }),
      new Promise<never>((_r, reject) => setTimeout(() => reject(new Error('no answer in time')), ANSWER_MS)),
    ]);
    assert.ok(Date.now() - t0 < ANSWER_MS);
    return reply;
  }

  function assertRefused(reply: Reply): void {
    const text = JSON.stringify(reply);
    assert.ok(!text.includes(SECRET), 'content from outside the root leaked');
    assert.ok(!text.includes(SECRET_NAME), 'a name from outside the root leaked');
    assert.ok(!text.includes('root:x:0:0'), '/etc/passwd leaked');
    assert.ok(!text.includes(base), 'a host path leaked');
    if (reply.error) return; // input validation (JSON-RPC error) is a refusal too
    assert.equal(reply.result?.isError, true, `expected isError, got ${text.slice(0, 300)}`);
  }

  const readCases: [string, string][] = [
    ['parent', '..'],
    ['parent file', '../outside.txt'],
    ['nested parent', 'sub/../../outside.txt'],
    ['deep parents', '../../../../../../../../etc/passwd'],
    ['dot then parent', './../outside.txt'],
    ['trailing parent', 'sub/deeper/../../..'],
    ['parent with trailing slash', '../'],
    ['sibling-prefix directory', '../data_evil/secret'],
    ['percent-encoded dots', '%2e%2e/outside.txt'],
    ['percent-encoded slash', '..%2foutside.txt'],
    ['double-encoded', '%252e%252e%252foutside.txt'],
    ['overlong UTF-8 dots (as text)', '%c0%ae%c0%ae/outside.txt'],
    ['fullwidth dots', '\uff0e\uff0e/outside.txt'],
    ['one dot leader U+2024', '\u2024\u2024/outside.txt'],
    ['two dot leader U+2025', '\u2025/outside.txt'],
    ['fullwidth solidus', '..\uff0foutside.txt'],
    ['division slash U+2215', '..\u2215outside.txt'],
    ['NUL byte', 'inside.txt\u0000../../outside.txt'],
    ['NUL only', '\u0000'],
    ['absolute POSIX', '/etc/passwd'],
    ['absolute to the sibling', path.join(tmpdir(), 'x', 'data_evil', 'secret')],
    ['Windows drive', 'C:\\Windows\\win.ini'],
    ['Windows drive with slash', 'c:/outside.txt'],
    ['UNC path', '\\\\server\\share\\secret'],
    ['forward UNC', '//server/share/secret'],
    ['backslash parent', '..\\outside.txt'],
    ['mixed separators', 'sub\\..\\..\\outside.txt'],
    ['symlink to an outside file', 'link-file'],
    ['relative symlink to an outside file', 'link-relative'],
    ['symlink to an outside directory', 'link-dir/secret'],
    ['symlink chain leading out', 'chain1'],
    ['symlink loop', 'loop-a'],
    ['/proc/self/root via a link', 'proc-root/etc/passwd'],
    ['/proc/self/cwd via a link', 'proc-cwd/package.json'],
    ['absolute symlink to /etc/passwd', 'etc-passwd'],
    ['symlink to /', 'slash/etc/passwd'],
    ['nested symlink going up', 'sub/deeper/up/outside.txt'],
    ['nested symlink to the sibling', 'sub/evil/secret'],
    ['FIFO (must not hang)', 'fifo'],
    ['symlink to a FIFO', 'link-to-fifo'],
    ['device via symlink', 'dev-zero'],
    ['very long name', 'a'.repeat(5000)],
    ['long component', `${'b'.repeat(300)}/x`],
    ['very deep', `${'d/'.repeat(2000)}x`],
    ['deep parents after deep dirs', `${'d/'.repeat(50)}${'../'.repeat(51)}outside.txt`],
    ['empty', ''],
    ['whitespace', '   '],
    ['directory instead of file', 'sub'],
  ];
  for (const [name, filePath] of readCases) {
    it(`read-file: ${name}`, async () => assertRefused(await call('read-file', { filePath })));
  }

  const listCases: [string, string][] = [
    ['parent', '..'],
    ['sibling-prefix directory', '../data_evil'],
    ['absolute /', '/'],
    ['symlink to an outside directory', 'link-dir'],
    ['/proc/self/root via a link', 'proc-root'],
    ['symlink to /', 'slash'],
    ['nested symlink going up', 'sub/deeper/up'],
    ['backslash parent', '..\\'],
    ['FIFO', 'fifo'],
    ['symlink loop', 'loop-a'],
  ];
  for (const [name, directory] of listCases) {
    it(`list-files: ${name}`, async () => assertRefused(await call('list-files', { directory })));
  }

  it('recursive listing of the root shows links but never walks out of it', async () => {
    const reply = await call('list-files', { directory: '.', recursive: true });
    const text = JSON.stringify(reply);
    assert.ok(!text.includes(SECRET_NAME));
    assert.ok(!text.includes(SECRET));
    assert.ok(!text.includes('root:x'));
  });

  it('still serves an inside file afterwards', async () => {
    const reply = await call('read-file', { filePath: 'inside.txt' });
    assert.equal(reply.result?.isError, undefined);
    assert.equal(reply.result?.content[0].text, 'inside');
  });
});
