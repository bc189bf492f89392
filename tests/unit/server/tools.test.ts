import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';
import { connect, initialize, isRefused, type Reply, request } from './helpers/ws-client.ts';

// 'a€b' = 61 e2 82 ac 62: a 3-byte character at offsets 1..3.
const EURO = 'a€b';

describe('tools over the transport', () => {
  let kc: LocalIssuer;
  let server: TestServer;
  let root: string;
  let base: string;
  let nextId = 1;

  before(async () => {
    base = mkdtempSync(path.join(tmpdir(), 'tools-'));
    root = path.join(base, 'data');
    mkdirSync(path.join(root, 'dir', 'sub'), { recursive: true });
    writeFileSync(path.join(root, 'small.txt'), 'hello\n');
    writeFileSync(path.join(root, 'big.txt'), 'x'.repeat(100));
    writeFileSync(path.join(root, 'euro.txt'), EURO);
    writeFileSync(path.join(root, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 0xff]));
    for (let i = 0; i < 7; i++) writeFileSync(path.join(root, 'dir', `f${i}.txt`), String(i));
    writeFileSync(path.join(root, 'dir', 'sub', 'deep.txt'), 'deep');
    writeFileSync(path.join(base, 'secret.txt'), 'secret');
    symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'escape'));
    kc = await startLocalIssuer();
    server = await startTestServer(kc, root, { MAX_FILE_BYTES: '64' });
  });
  after(async () => {
    await server.close();
    await kc.close();
    rmSync(base, { recursive: true, force: true });
  });

  async function session(scope = 'file.read file.list'): Promise<WebSocket> {
    const ws = await connect(server.wsUrl, { token: await kc.sign({ scope }) });
    assert.ok(!isRefused(ws));
    await initialize(ws);
    return ws;
  }
  async function call(ws: WebSocket, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) {
    const reply = await request(ws, nextId++, 'tools/call', {
      name,
      arguments: args,
      ...(meta ? { _meta: meta } : {}),
    });
    assert.ok(reply.result, JSON.stringify(reply));
    return reply.result as {
      isError?: boolean;
      content: { type: string; text?: string; resource?: { blob?: string; mimeType?: string } }[];
      structuredContent?: Reply;
    };
  }

  it('lists only the tools the token scopes allow, and names the missing scope on call', async () => {
    const full = await session();
    const all = await request(full, nextId++, 'tools/list');
    assert.deepEqual(all.result.tools.map((t: { name: string }) => t.name).sort(), ['list-files', 'read-file']);
    const tool = all.result.tools.find((t: { name: string }) => t.name === 'list-files');
    assert.equal(tool.annotations.readOnlyHint, true);
    assert.equal(tool.annotations.openWorldHint, false);
    assert.ok(tool.outputSchema);
    full.close();

    const lister = await session('file.list');
    const some = await request(lister, nextId++, 'tools/list');
    assert.deepEqual(
      some.result.tools.map((t: { name: string }) => t.name),
      ['list-files'],
    );
    const denied = await call(lister, 'read-file', { filePath: 'small.txt' });
    assert.equal(denied.isError, true);
    assert.match(denied.content[0]?.text ?? '', /read-file needs scope file\.read, which this token lacks/);
    lister.close();

    const none = await session('');
    assert.deepEqual((await request(none, nextId++, 'tools/list')).result.tools, []);
    none.close();
  });

  it('reads a small text file with structured content', async () => {
    const ws = await session();
    const r = await call(ws, 'read-file', { filePath: 'small.txt' });
    assert.equal(r.isError, undefined);
    assert.equal(r.content[0]?.text, 'hello\n');
    assert.deepEqual(r.structuredContent, {
      path: 'small.txt',
      size: 6,
      offset: 0,
      length: 6,
      encoding: 'utf8',
      eof: true,
    });
    ws.close();
  });

  it('refuses a file over MAX_FILE_BYTES with a paging hint, then pages it', async () => {
    const ws = await session();
    const r = await call(ws, 'read-file', { filePath: 'big.txt' });
    assert.equal(r.isError, true);
    assert.match(r.content[0]?.text ?? '', /100 bytes, over the 64-byte limit.*offset and length/);
    const p1 = await call(ws, 'read-file', { filePath: 'big.txt', offset: 0, length: 1000 });
    assert.equal(p1.structuredContent?.length, 64);
    assert.equal(p1.structuredContent?.nextOffset, 64);
    const p2 = await call(ws, 'read-file', { filePath: 'big.txt', offset: 64 });
    assert.equal(p2.structuredContent?.length, 36);
    assert.equal(p2.structuredContent?.eof, true);
    ws.close();
  });

  it('never splits a multi-byte character', async () => {
    const ws = await session();
    const a = await call(ws, 'read-file', { filePath: 'euro.txt', offset: 0, length: 2 });
    assert.equal(a.content[0]?.text, 'a');
    assert.equal(a.structuredContent?.nextOffset, 1);
    const b = await call(ws, 'read-file', { filePath: 'euro.txt', offset: 1, length: 4 });
    assert.equal(b.content[0]?.text, '€b');
    assert.equal(b.structuredContent?.eof, true);
    const c = await call(ws, 'read-file', { filePath: 'euro.txt', offset: 2, length: 3 });
    assert.equal(c.content[0]?.text, 'b', 'an offset inside a character moves to the next boundary');
    assert.equal(c.structuredContent?.offset, 4);
    const d = await call(ws, 'read-file', { filePath: 'euro.txt', offset: 1, length: 1 });
    assert.equal(d.isError, true);
    ws.close();
  });

  it('returns binary files as an embedded base64 resource', async () => {
    const ws = await session();
    const r = await call(ws, 'read-file', { filePath: 'image.png' });
    assert.equal(r.content[0]?.type, 'resource');
    assert.equal(r.content[0]?.resource?.mimeType, 'image/png');
    assert.deepEqual(
      Buffer.from(r.content[0]?.resource?.blob ?? '', 'base64'),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 0xff]),
    );
    assert.equal(r.structuredContent?.encoding, 'base64');
    ws.close();
  });

  it('refuses escapes without revealing host paths', async () => {
    const ws = await session();
    for (const filePath of ['../secret.txt', 'escape', '/etc/passwd', 'missing.txt']) {
      const r = await call(ws, 'read-file', { filePath });
      assert.equal(r.isError, true, filePath);
      assert.ok(!(r.content[0]?.text ?? '').includes(base), r.content[0]?.text);
    }
    ws.close();
  });

  it('lists in directory order, recursive in pre-order, paginated, with progress', async () => {
    const ws = await session();
    const top = await call(ws, 'list-files', {});
    const names = top.structuredContent?.entries.map((e: { path: string }) => e.path);
    // Directory order is the file system's, not sorted: compare as sets.
    assert.deepEqual([...names].sort(), ['big.txt', 'dir', 'escape', 'euro.txt', 'image.png', 'small.txt']);
    const esc = top.structuredContent?.entries.find((e: { name: string }) => e.name === 'escape');
    assert.equal(esc.type, 'symlink');

    const progress: unknown[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.method === 'notifications/progress') progress.push(m.params);
    });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(
        ws,
        'list-files',
        { directory: 'dir', recursive: true, limit: 3, ...(cursor ? { cursor } : {}) },
        { progressToken: 'p1' },
      );
      const entries = page.structuredContent?.entries ?? [];
      assert.ok(entries.length <= 3);
      seen.push(...entries.map((e: { path: string }) => e.path));
      cursor = page.structuredContent?.nextCursor;
    } while (cursor);
    const expected = ['dir/sub', 'dir/sub/deep.txt', ...Array.from({ length: 7 }, (_, i) => `dir/f${i}.txt`)];
    assert.deepEqual([...seen].sort(), expected.sort(), 'every entry exactly once');
    // Pre-order: a directory's contents come right after it.
    assert.equal(seen.indexOf('dir/sub/deep.txt'), seen.indexOf('dir/sub') + 1);
    assert.ok(progress.length > 0);
    const shallow = await call(ws, 'list-files', { directory: 'dir', recursive: true, maxDepth: 1 });
    assert.equal(shallow.structuredContent?.entries.length, 8);
    assert.equal(shallow.structuredContent?.nextCursor, undefined);
    const bad = await call(ws, 'list-files', { directory: 'dir', cursor: 'garbage' });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0]?.text ?? '', /cursor/);
    ws.close();
  });

  it('writes one audit line per tool call, without contents', () => {
    const calls = server.logs.filter((l) => l.event === 'tool.call');
    assert.ok(calls.length > 5);
    assert.ok(calls.every((l) => typeof l.tool === 'string' && 'outcome' in l));
    assert.ok(!JSON.stringify(server.logs).includes('hello'));
  });
});
