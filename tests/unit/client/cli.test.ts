// CLI: argument parsing, and exit codes of the real entry point spawned as a child process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { ClientError } from 'mcp-client';
import { parseCommandLine } from '../../../mcp-client/src/cli/args.ts';
import { FakeMcpServer } from './fake-mcp-server.ts';
import { FakeTokenEndpoint } from './fake-token-endpoint.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=development', 'mcp-client/src/cli.ts', ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('parseCommandLine', () => {
  it('defaults to demo and maps flags to overrides', () => {
    const inv = parseCommandLine(['--server', 'ws://x:1/mcp', '--scope', 'file.list', '--json']);
    assert.equal(inv.command, 'demo');
    assert.equal(inv.explicit, false);
    assert.equal(inv.overrides.serverUrl, 'ws://x:1/mcp');
    assert.equal(inv.overrides.scope, 'file.list');
    assert.equal(inv.overrides.issuer, undefined);
    assert.equal(inv.json, true);
    assert.equal(inv.overrides.mcpProtocol, undefined);
    assert.equal(parseCommandLine(['--protocol', '2026-07-28']).overrides.mcpProtocol, '2026-07-28');
    assert.equal(parseCommandLine(['tools', '--protocol', 'auto']).overrides.mcpProtocol, 'auto');
  });

  it('parses command arguments and per-command flags', () => {
    assert.deepEqual(parseCommandLine(['ls', 'docs', '-r']).positionals, ['docs']);
    assert.equal(parseCommandLine(['ls', '--recursive']).recursive, true);
    const cat = parseCommandLine(['cat', 'a.bin', '--offset', '10', '--length', '5']);
    assert.deepEqual([cat.offset, cat.length, cat.positionals[0]], [10, 5, 'a.bin']);
    assert.deepEqual(parseCommandLine(['call', 'list-files', '{"directory":"."}']).positionals, [
      'list-files',
      '{"directory":"."}',
    ]);
    assert.equal(parseCommandLine(['cat', '--help']).help, true);
  });

  it('refuses bad command lines with code config', () => {
    for (const argv of [
      ['frobnicate'],
      ['--nope'],
      ['cat'],
      ['cat', 'a', 'b'],
      ['ls', '--offset', '3'],
      ['cat', 'a', '--offset', '-1'],
      ['cat', 'a', '--length', 'ten'],
      ['tools', 'extra'],
      ['--protocol', '2024-11-05'],
      ['--protocol', 'modern'],
    ]) {
      assert.throws(
        () => parseCommandLine(argv),
        (e: unknown) => e instanceof ClientError && e.code === 'config',
        argv.join(' '),
      );
    }
  });
});

describe('mcp-client CLI', () => {
  let server: FakeMcpServer;
  let tokens: FakeTokenEndpoint;
  const full = { OAUTH_CLIENT_ID: 'mcp-client', OAUTH_CLIENT_SECRET: 's3cret' };
  before(async () => {
    tokens = await FakeTokenEndpoint.start();
    server = await FakeMcpServer.start({
      auth: (t) =>
        t === 'lister-token' ? { status: 403, error: 'insufficient_scope', scope: 'file.read' } : undefined,
    });
  });
  after(async () => {
    await server.stop();
    await tokens.stop();
  });

  it('runs the demo (exit 0) with the four steps', async () => {
    const r = await cli(['--server', server.url, '--token-url', tokens.tokenUrl], full);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^1\. Connected to fake-mcp 9\.9\.9 at ws:\/\/127\.0\.0\.1:\d+\/mcp \(MCP 2025-11-25\) as mcp-client/,
    );
    assert.match(r.stdout, /2\. Files in "\."\n\s+file\s+5 B\s+2025-01-01T00:00:00Z\s+sample1\.txt/);
    assert.match(r.stdout, /3\. sample1\.txt\n\s+contents of sample1\.txt/);
    assert.match(r.stdout, /4\. sample2\.txt\n\s+contents of sample2\.txt/);
    const j = await cli(['demo', '--json', '--server', server.url, '--token-url', tokens.tokenUrl], full);
    assert.equal(j.code, 0);
    assert.equal(JSON.parse(j.stdout).steps.length, 3);
  });

  it('prints the negotiated revision: 2026-07-28 from a dual-era server unless --protocol or MCP_PROTOCOL pins 2025-11-25', async () => {
    const dual = await FakeMcpServer.start({ era: 'dual' });
    try {
      const base = ['--server', dual.url, '--token-url', tokens.tokenUrl];
      const modern = await cli(base, full);
      assert.equal(modern.code, 0, modern.stderr);
      assert.match(modern.stdout, /^1\. Connected to fake-mcp 9\.9\.9 at ws:\/\/\S+ \(MCP 2026-07-28\) as mcp-client/);
      assert.match(modern.stdout, /4\. sample2\.txt\n\s+contents of sample2\.txt/);
      const flag = await cli([...base, '--protocol', '2025-11-25'], full);
      assert.match(flag.stdout, /\(MCP 2025-11-25\)/, flag.stderr);
      const env = await cli(base, { ...full, MCP_PROTOCOL: '2025-11-25' });
      assert.match(env.stdout, /\(MCP 2025-11-25\)/, env.stderr);
      const bad = await cli(base, { ...full, MCP_PROTOCOL: 'latest' });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /MCP_PROTOCOL/);
    } finally {
      await dual.stop();
    }
  });

  it('prints help per command (exit 0) and refuses bad usage (exit 2)', async () => {
    const h = await cli(['ls', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: mcp-client ls \[dir\] \[--recursive\]/);
    assert.match((await cli(['--help'])).stdout, /Exit codes: 0 ok, 2 usage\/config/);
    assert.equal((await cli(['cat'])).code, 2);
    assert.equal((await cli(['--bogus'])).code, 2);
    const noCreds = await cli(['tools']);
    assert.equal(noCreds.code, 2);
    assert.match(noCreds.stderr, /no credentials: set OAUTH_CLIENT_ID/);
  });

  it('exits 3 on refused client credentials, naming the client and the fix but not the secret', async () => {
    const r = await cli(['tools', '--server', server.url, '--token-url', tokens.tokenUrl], {
      ...full,
      OAUTH_CLIENT_SECRET: 'wrong-secret-value',
    });
    assert.equal(r.code, 3);
    assert.match(
      r.stderr,
      /Keycloak refused the client credentials \(invalid_client\) for client mcp-client at .*: check OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET/,
    );
    assert.ok(!(r.stdout + r.stderr).includes('wrong-secret-value'));
  });

  it('exits 3 on a 403 insufficient_scope upgrade and on a tool refusing for scope', async () => {
    const up = await cli(['tools', '--server', server.url], { OAUTH_ACCESS_TOKEN: 'lister-token' });
    assert.equal(up.code, 3);
    assert.match(up.stderr, /needs scope file\.read/);
    assert.ok(!up.stderr.includes('lister-token'));
    const tool = await cli(['cat', 'secret.txt', '--server', server.url], { OAUTH_ACCESS_TOKEN: 'ok' });
    assert.equal(tool.code, 3);
    assert.match(tool.stderr, /read-file: the server needs scope file\.read/);
  });

  it('exits 4 when the server is not running, 5 on a tool error', async () => {
    const gone = await FakeMcpServer.start();
    const url = gone.url;
    await gone.stop();
    const down = await cli(['ls', '--server', url], { OAUTH_ACCESS_TOKEN: 'ok' });
    assert.equal(down.code, 4);
    assert.match(down.stderr, /connection refused at ws:\/\/127\.0\.0\.1:\d+\/mcp: is the server running\?/);
    const missing = await cli(['cat', 'missing.txt', '--server', server.url, '--json'], { OAUTH_ACCESS_TOKEN: 'ok' });
    assert.equal(missing.code, 5);
    assert.equal(JSON.parse(missing.stdout).error.code, 'tool_error');
  });

  it('cat, ls, call and tools print results', async () => {
    const env = { OAUTH_ACCESS_TOKEN: 'ok' };
    assert.equal((await cli(['cat', 'a.txt', '--server', server.url], env)).stdout, 'contents of a.txt');
    assert.match((await cli(['ls', '--server', server.url], env)).stdout, /sample2\.txt/);
    const call = await cli(['call', 'read-file', '{"filePath":"z"}', '--server', server.url], env);
    assert.equal(call.stdout.trim(), 'contents of z');
    assert.equal((await cli(['call', 'read-file', '[1]', '--server', server.url], env)).code, 2);
    assert.match(
      (await cli(['tools', '--server', server.url], env)).stdout,
      /^list-files\s+List files \[read-only\]\nread-file\s+Read a file \[read-only\]\n$/,
    );
  });

  it('whoami prints claims, never the token', async () => {
    const payload = Buffer.from(
      JSON.stringify({
        azp: 'mcp-client',
        sub: 'svc',
        scope: 'file.read file.list',
        aud: 'mcp-server',
        iss: 'http://kc/realms/mcp',
        exp: 4102444800,
      }),
    ).toString('base64url');
    const token = `eyJhbGciOiJub25lIn0.${payload}.c2ln`;
    const r = await cli(['whoami'], { OAUTH_ACCESS_TOKEN: token });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /client \(azp\):\s+mcp-client/);
    assert.match(r.stdout, /scopes:\s+file\.read file\.list/);
    assert.match(r.stdout, /expires \(exp\):\s+2100-01-01T00:00:00\.000Z/);
    assert.ok(!r.stdout.includes(payload) && !r.stdout.includes('c2ln'));
    const j = JSON.parse((await cli(['whoami', '--json'], { OAUTH_ACCESS_TOKEN: token })).stdout);
    assert.deepEqual(j.scopes, ['file.read', 'file.list']);
  });
});
