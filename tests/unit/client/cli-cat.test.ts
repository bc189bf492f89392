// `mcp-client cat` writes exactly the file's bytes: the real CLI (a child process) against the real
// server (local issuer), compared byte for byte, over WebSocket and Streamable HTTP.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';

const FILES: Record<string, Buffer> = {
  'with-newline.txt': Buffer.from('これはテキストです。\nline two\n', 'utf8'),
  'no-newline.txt': Buffer.from('no trailing newline: ünïcödé 🚀', 'utf8'),
  'crlf.txt': Buffer.from('windows\r\nline endings\r\n', 'utf8'),
  // A UTF-8 byte order mark is part of the file: it must come out too.
  'bom.txt': Buffer.from('\ufeffstarts with a BOM\n', 'utf8'),
  // NUL, invalid UTF-8 and random bytes: served as a base64 blob.
  'blob.bin': Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0x80, 0x0a]), randomBytes(4096)]),
};

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=development', 'mcp-client/src/cli.ts', ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'buffer', timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr: stderr.toString('utf8') });
      },
    );
  });
}

describe('mcp-client cat against the real server', () => {
  let issuer: LocalIssuer;
  let server: TestServer;
  let root: string;
  let env: Record<string, string>;
  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'cli-cat-'));
    for (const [name, bytes] of Object.entries(FILES)) writeFileSync(path.join(root, name), bytes);
    issuer = await startLocalIssuer();
    server = await startTestServer(issuer, root);
    env = { OAUTH_ACCESS_TOKEN: await issuer.sign() };
  });
  after(async () => {
    await server.close();
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  });

  for (const transport of ['ws', 'http'] as const) {
    for (const [name, bytes] of Object.entries(FILES)) {
      it(`writes exactly the bytes of ${name} (${transport})`, async () => {
        const url = transport === 'ws' ? server.wsUrl : server.httpUrl;
        const r = await cli(['cat', name, '--server', url], env);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.equals(bytes), `stdout differs: ${r.stdout.length} bytes, file ${bytes.length}`);
        assert.equal(r.stderr, '');
      });
    }
  }

  it('--json prints the result with its structuredContent instead of the bytes', async () => {
    const r = await cli(['cat', 'no-newline.txt', '--json', '--server', server.wsUrl], env);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout.toString('utf8'));
    assert.deepEqual(json.structuredContent, {
      path: 'no-newline.txt',
      size: FILES['no-newline.txt']?.length,
      offset: 0,
      length: FILES['no-newline.txt']?.length,
      encoding: 'utf8',
      eof: true,
    });
    assert.equal(json.content[0].text, FILES['no-newline.txt']?.toString('utf8'));
  });

  it('a byte range writes exactly those bytes and says on stderr where to continue', async () => {
    const bytes = FILES['blob.bin'] as Buffer;
    const r = await cli(['cat', 'blob.bin', '--offset', '3', '--length', '100', '--server', server.wsUrl], env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.equals(bytes.subarray(3, 103)));
    assert.match(r.stderr, /partial: stopped at byte 103 of 4101; continue with --offset 103/);
  });
});
