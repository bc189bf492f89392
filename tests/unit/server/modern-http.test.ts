// Streamable HTTP, both eras on one endpoint: 2026-07-28 requests served statelessly (no session,
// header validation, -32020/-32022, 405 for GET/DELETE), 2025-11-25 clients keep their sessions.
// Driven by the SDK v2 Client (pinned, auto, legacy) and by raw requests for the error paths.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { mcpRequest } from './helpers/http-client.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';

const MODERN = '2026-07-28';
const MiB = 1024 * 1024;
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};

/** A 2026-07-28 request body and the headers that must agree with it. */
function modern(
  id: number,
  method: string,
  params: Record<string, unknown> = {},
  envelope = ENVELOPE,
): { body: unknown; headers: Record<string, string> } {
  const name: Record<string, string> = typeof params.name === 'string' ? { 'mcp-name': params.name } : {};
  return {
    body: { jsonrpc: '2.0', id, method, params: { ...params, _meta: envelope } },
    headers: {
      'mcp-protocol-version': String(envelope['io.modelcontextprotocol/protocolVersion']),
      'mcp-method': method,
      ...name,
    },
  };
}

type Mode = 'legacy' | 'auto' | { pin: typeof MODERN };

async function sdkClient(url: string, token: string, mode: Mode): Promise<Client> {
  const client = new Client({ name: 'interop-test', version: '1.0.0' }, { versionNegotiation: { mode } });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

function textOf(result: unknown): string {
  return JSON.stringify((result as { content?: unknown }).content);
}

describe('Streamable HTTP, 2026-07-28 and 2025-11-25', () => {
  let kc: LocalIssuer;
  let server: TestServer;
  let replica: TestServer;
  let root: string;
  let full: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'modern-http-'));
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    // Larger than what loopback socket buffers absorb, so an unread response stays in flight.
    writeFileSync(path.join(root, 'huge.txt'), 'h'.repeat(24 * MiB));
    kc = await startLocalIssuer();
    full = await kc.sign();
    [server, replica] = await Promise.all([
      startTestServer(kc, root, { MAX_IN_FLIGHT_PER_CLIENT: '2', MAX_FILE_BYTES: String(32 * MiB) }),
      startTestServer(kc, root),
    ]);
  });
  after(async () => {
    await Promise.all([server.close(), replica.close()]);
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves an SDK v2 client pinned to 2026-07-28: discover, tools/list, tools/call, no session', async () => {
    const client = await sdkClient(server.httpUrl, full, { pin: MODERN });
    assert.equal(client.getProtocolEra(), 'modern');
    assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
    assert.deepEqual(client.getDiscoverResult()?.supportedVersions, [MODERN]);
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ['list-files', 'read-file'],
    );
    const read = await client.callTool({ name: 'read-file', arguments: { filePath: 'a.txt' } });
    assert.equal(read.isError, undefined);
    assert.match(textOf(read), /hello/);
    await client.close();
    assert.equal(server.logs.filter((l) => l.event === 'auth.accepted' && l.transport === 'http').length, 0);
  });

  it('is stateless: a request needs nothing from an earlier one, so any replica answers', async () => {
    const call = modern(1, 'tools/call', { name: 'read-file', arguments: { filePath: 'a.txt' } });
    for (const url of [server.httpUrl, replica.httpUrl]) {
      const res = await mcpRequest(url, { token: full, ...call });
      assert.equal(res.status, 200);
      assert.equal(res.headers['mcp-session-id'], undefined);
      assert.equal(res.messages[0]?.id, 1);
      assert.equal(res.messages[0]?.result.resultType, 'complete');
      assert.match(JSON.stringify(res.messages[0]?.result.content), /hello/);
    }
    // A 2025-era session id on a 2026-07-28 request is ignored, not looked up (no 404).
    const stray = await mcpRequest(server.httpUrl, {
      token: full,
      body: call.body,
      headers: { ...call.headers, 'mcp-session-id': '00000000-0000-4000-8000-000000000000' },
    });
    assert.equal(stray.status, 200);
  });

  it('answers server/discover and tools/list with cache fields true for a scope-dependent list', async () => {
    const discover = await mcpRequest(server.httpUrl, { token: full, ...modern(1, 'server/discover') });
    assert.equal(discover.status, 200);
    assert.deepEqual(discover.messages[0]?.result.supportedVersions, [MODERN]);
    const lister = await kc.sign({ scope: 'file.list' }, { expiresIn: '30s' });
    const list = await mcpRequest(server.httpUrl, { token: lister, ...modern(2, 'tools/list') });
    const result = list.messages[0]?.result;
    assert.deepEqual(
      result.tools.map((t: { name: string }) => t.name),
      ['list-files'],
    );
    assert.equal(result.cacheScope, 'private', 'the list depends on the credential');
    assert.ok(result.ttlMs > 0 && result.ttlMs <= 30_000, `ttlMs ${result.ttlMs} outlives the token`);
  });

  it('keeps per-tool scopes: a hidden tool is refused with 403 insufficient_scope naming the scope (step-up)', async () => {
    const lister = await kc.sign({ scope: 'file.list' });
    const client = await sdkClient(server.httpUrl, lister, { pin: MODERN });
    assert.deepEqual(
      (await client.listTools()).tools.map((t) => t.name),
      ['list-files'],
    );
    // No auth provider to step up with: the SDK reads the challenge into its typed step-up error.
    await assert.rejects(client.callTool({ name: 'read-file', arguments: { filePath: 'a.txt' } }), (err: Error) => {
      assert.equal(err.name, 'InsufficientScopeError');
      assert.match(err.message, /required "file\.read"/);
      return true;
    });
    assert.ok(server.logs.some((l) => l.reason === 'insufficient_scope' && l.tool === 'read-file'));
    await client.close();
  });

  it('negotiates 2026-07-28 in auto mode and keeps a 2025-11-25 session in legacy mode', async () => {
    const auto = await sdkClient(server.httpUrl, full, 'auto');
    assert.equal(auto.getProtocolEra(), 'modern');
    await auto.close();
    const legacy = await sdkClient(server.httpUrl, full, 'legacy');
    assert.equal(legacy.getProtocolEra(), 'legacy');
    assert.equal(legacy.getNegotiatedProtocolVersion(), '2025-11-25');
    assert.match(textOf(await legacy.callTool({ name: 'read-file', arguments: { filePath: 'a.txt' } })), /hello/);
    await legacy.close();
  });

  it('refuses headers that disagree with the body with 400 -32020, echoing the id', async () => {
    const call = modern(7, 'tools/call', { name: 'read-file', arguments: { filePath: 'a.txt' } });
    const res = await mcpRequest(server.httpUrl, {
      token: full,
      body: call.body,
      headers: { ...call.headers, 'mcp-name': 'list-files' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.messages[0]?.error.code, -32020);
    assert.equal(res.messages[0]?.id, 7);
    const noVersion = await mcpRequest(server.httpUrl, {
      token: full,
      body: call.body,
      headers: { 'mcp-method': 'tools/call', 'mcp-name': 'read-file' },
    });
    assert.equal(noVersion.status, 400);
    assert.equal(noVersion.messages[0]?.error.code, -32020);
    assert.equal(noVersion.messages[0]?.id, 7);
  });

  it('answers an unsupported revision with 400 -32022 naming the supported ones', async () => {
    const future = { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' };
    const res = await mcpRequest(server.httpUrl, { token: full, ...modern(8, 'tools/list', {}, future) });
    assert.equal(res.status, 400);
    assert.equal(res.messages[0]?.error.code, -32022);
    assert.deepEqual(res.messages[0]?.error.data, { supported: [MODERN], requested: '2099-01-01' });
    assert.equal(res.messages[0]?.id, 8);
  });

  it('answers GET and DELETE per era: 405 for 2026-07-28, the session rules for 2025-11-25', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await mcpRequest(server.httpUrl, {
        method,
        token: full,
        headers: { 'mcp-protocol-version': MODERN },
      });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.allow, 'POST');
      const legacy = await mcpRequest(server.httpUrl, { method, token: full });
      assert.equal(legacy.status, 400, `${method} without a session id`);
    }
  });

  it('keeps admission in front: no token is 401, a wrong Content-Type is 415 with the id', async () => {
    const list = modern(9, 'tools/list');
    const anonymous = await mcpRequest(server.httpUrl, list);
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Bearer /);
    const text = await mcpRequest(server.httpUrl, {
      token: full,
      body: JSON.stringify(list.body),
      headers: { ...list.headers, 'content-type': 'text/plain' },
    });
    assert.equal(text.status, 415);
    assert.equal(text.messages[0]?.id, 9);
  });

  it('counts 2026-07-28 requests against the client budget: 429 with the id while unread answers hold it', {
    timeout: 30_000,
  }, async () => {
    const token = await kc.sign({ azp: 'hoarder' });
    const read = (id: number) => modern(id, 'tools/call', { name: 'read-file', arguments: { filePath: 'huge.txt' } });
    const stuck = [
      await postNeverReading(server.port, token, read(1)),
      await postNeverReading(server.port, token, read(2)),
    ];
    const deadline = Date.now() + 20_000;
    while (server.logs.filter((l) => l.event === 'tool.call' && l.azp === 'hoarder').length < 2) {
      assert.ok(Date.now() < deadline, 'the two reads never ran');
      await new Promise((r) => setTimeout(r, 20));
    }
    const refused = await mcpRequest(server.httpUrl, { token, ...modern(3, 'tools/list') });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.messages[0]?.id, 3);
    for (const s of stuck) s.destroy();
    const again = Date.now() + 10_000;
    for (;;) {
      const res = await mcpRequest(server.httpUrl, { token, ...modern(4, 'tools/list') });
      if (res.status === 200) break;
      assert.ok(Date.now() < again, 'the budget never came back');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});

/** POSTs a 2026-07-28 request on a raw socket that never reads the answer. */
async function postNeverReading(
  port: number,
  token: string,
  call: { body: unknown; headers: Record<string, string> },
): Promise<Socket> {
  const text = JSON.stringify(call.body);
  const socket = tcpConnect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause();
  const headers = Object.entries(call.headers).map(([k, v]) => `${k}: ${v}`);
  socket.write(
    [
      'POST /mcp HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      `Authorization: Bearer ${token}`,
      'Content-Type: application/json',
      'Accept: application/json, text/event-stream',
      ...headers,
      `Content-Length: ${Buffer.byteLength(text)}`,
      '',
      text,
    ].join('\r\n'),
  );
  return socket;
}
