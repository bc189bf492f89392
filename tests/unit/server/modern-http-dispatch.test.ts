// The 2026-07-28 HTTP path answers exactly as the SDK's createMcpHandler entry (the same status,
// content type and bytes for the same request and token), whether the request goes to the
// long-lived dispatch or to the SDK's entry; requests of several clients with the same id stay
// apart, and each tool call's audit line names its own client.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AuthInfo, createMcpHandler } from '@modelcontextprotocol/server';
import { createTokenVerifier } from '../../../mcp-server/src/auth/token-verifier.ts';
import { createLogger } from '../../../mcp-server/src/log.ts';
import { directCallStats } from '../../../mcp-server/src/mcp/direct-tool-calls.ts';
import { learnedAnswerStats } from '../../../mcp-server/src/mcp/learned-answers.ts';
import { createSession } from '../../../mcp-server/src/mcp/session.ts';
import { mcpRequest } from './helpers/http-client.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';

const MODERN = '2026-07-28';
const MAX_FILE_BYTES = 1024 * 1024;
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};

interface Case {
  readonly label: string;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;
}

/** A 2026-07-28 request with the standard headers a conforming client sends. */
function call(label: string, id: number, method: string, params: Record<string, unknown> = {}, meta = {}): Case {
  const name: Record<string, string> = typeof params.name === 'string' ? { 'mcp-name': params.name } : {};
  return {
    label,
    body: { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...ENVELOPE, ...meta } } },
    headers: { 'mcp-protocol-version': MODERN, 'mcp-method': method, ...name },
  };
}

const CASES: readonly Case[] = [
  call('read-file', 1, 'tools/call', { name: 'read-file', arguments: { filePath: 'a.txt' } }),
  call('read-file, missing file (isError)', 2, 'tools/call', {
    name: 'read-file',
    arguments: { filePath: 'none.txt' },
  }),
  call('read-file, invalid arguments', 'x' as unknown as number, 'tools/call', {
    name: 'read-file',
    arguments: { filePath: 5 },
  }),
  call('unknown tool', 4, 'tools/call', { name: 'nope', arguments: {} }),
  call('list-files', 5, 'tools/call', { name: 'list-files', arguments: { directory: '.' } }),
  call('tools/list', 6, 'tools/list'),
  call('server/discover', 7, 'server/discover'),
  call('server/discover again (answered from memory: mcp/learned-answers.ts)', 11, 'server/discover'),
  call(
    'read-file with progress (SSE)',
    8,
    'tools/call',
    { name: 'read-file', arguments: { filePath: 'big.txt' } },
    {
      progressToken: 'p1',
    },
  ),
  call('a method not served (the SDK entry answers)', 9, 'prompts/list'),
  {
    ...call('Base64 Mcp-Name (the SDK entry answers)', 10, 'tools/call', {
      name: 'read-file',
      arguments: { filePath: 'a.txt' },
    }),
    headers: {
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': `=?base64?${Buffer.from('read-file').toString('base64')}?=`,
    },
  },
];

describe('2026-07-28 over HTTP: the long-lived dispatch answers as the SDK entry', { timeout: 60_000 }, () => {
  let kc: LocalIssuer;
  let server: TestServer;
  let root: string;
  let token: string;
  let authInfo: AuthInfo;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'modern-dispatch-'));
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    // Over read-file's chunk (256 KiB): progress notifications go out before the result.
    writeFileSync(path.join(root, 'big.txt'), 'b'.repeat(600 * 1024));
    kc = await startLocalIssuer();
    server = await startTestServer(kc, root);
    token = await kc.sign({}, { expiresIn: '1h' });
    const verifier = createTokenVerifier({ issuer: kc.issuer, audience: 'mcp-server', jwksUrl: new URL(kc.jwksUrl) });
    authInfo = await verifier.verify(token);
  });
  after(async () => {
    await server.close();
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** The SDK entry's answer: createMcpHandler over the server's own session factory, given the verified token. */
  async function sdkAnswer(c: Case): Promise<{ status: number; headers: Headers; text: string }> {
    const handler = createMcpHandler(
      (ctx) =>
        createSession({
          authInfo: ctx.authInfo as AuthInfo,
          root,
          maxFileBytes: MAX_FILE_BYTES,
          logger: createLogger({ level: 'silent' }),
        }),
      { legacy: 'reject' },
    );
    const res = await handler.fetch(
      new Request(server.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...c.headers },
        body: JSON.stringify(c.body),
      }),
      { authInfo },
    );
    const text = await res.text();
    await handler.close();
    return { status: res.status, headers: res.headers, text };
  }

  let answeredBefore = 0;
  let probesBefore = 0;
  before(() => {
    answeredBefore = directCallStats().answered;
    probesBefore = learnedAnswerStats().answered;
  });

  for (const c of CASES) {
    it(`same status, headers and bytes: ${c.label}`, async () => {
      const ours = await mcpRequest(server.httpUrl, { token, body: c.body, headers: c.headers });
      const sdk = await sdkAnswer(c);
      assert.equal(ours.status, sdk.status);
      // Every header the SDK entry sets, with its value (node adds framing, date and CORS's Vary).
      for (const [name, value] of sdk.headers) assert.equal(ours.headers[name], value, name);
      if (c.label.includes('SSE')) assert.equal(ours.headers['content-type'], 'text/event-stream');
      assert.equal(ours.text, sdk.text);
    });
  }

  it('answered the tool calls after the first from its direct path (the comparison is not the SDK against itself)', () => {
    // read-file (first: through the SDK, which accepts the envelope), then the missing file and
    // list-files direct; invalid arguments, unknown tool, progress and Base64 Mcp-Name are the SDK's.
    assert.equal(directCallStats().answered - answeredBefore, 2);
    // The second server/discover of the same envelope, from the memory of the first's answer.
    assert.equal(learnedAnswerStats().answered - probesBefore, 1);
  });

  it('keeps requests of several clients with the same id apart, each audited under its own client', async () => {
    const clients = ['alpha', 'beta', 'gamma', 'delta'];
    const tokens = await Promise.all(clients.map((azp) => kc.sign({ azp }, { expiresIn: '1h' })));
    const scoped = await kc.sign({ azp: 'lister', scope: 'file.list' }, { expiresIn: '1h' });
    const before = server.logs.length;
    const read = call('read', 1, 'tools/call', { name: 'read-file', arguments: { filePath: 'a.txt' } });
    const list = call('list', 1, 'tools/list');
    const rounds = 10;
    const answers = await Promise.all(
      Array.from({ length: rounds }, () => [
        ...tokens.map((t) => mcpRequest(server.httpUrl, { token: t, body: read.body, headers: read.headers })),
        mcpRequest(server.httpUrl, { token: scoped, body: list.body, headers: list.headers }),
      ]).flat(),
    );
    for (const [i, a] of answers.entries()) {
      assert.equal(a.status, 200);
      assert.equal(a.messages[0]?.id, 1);
      if (i % (clients.length + 1) === clients.length) {
        // The lister's own token: only the tool its scopes allow.
        assert.deepEqual(
          a.messages[0]?.result.tools.map((t: { name: string }) => t.name),
          ['list-files'],
        );
      } else assert.match(JSON.stringify(a.messages[0]?.result.content), /hello/);
    }
    const calls = server.logs.slice(before).filter((l) => l.event === 'tool.call');
    for (const azp of clients) {
      const mine = calls.filter((l) => l.azp === azp);
      assert.equal(mine.length, rounds, `${azp}: one audit line per call`);
      assert.ok(mine.every((l) => l.transport === 'http' && l.outcome === 'ok' && l.sub === 'user-1'));
    }
    assert.equal(calls.length, rounds * clients.length);
  });
});
