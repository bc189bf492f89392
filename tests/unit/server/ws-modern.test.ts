// WebSocket, both eras: the first message decides. Driven by the SDK v2 Client (pinned to
// 2026-07-28, auto, legacy) over a WebSocket Transport written here from docs/transport.md (not
// imported from mcp-client), and by raw frames for envelope validation, errors and cancellation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/client';
import WebSocket from 'ws';
import { waitForLog } from '../../support/wait.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';
import { connect, initialize, isRefused, type Reply } from './helpers/ws-client.ts';

const MODERN = '2026-07-28';
const MiB = 1024 * 1024;
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};

/** The binding of docs/transport.md, client side: bearer at the upgrade, one JSON-RPC message per text frame. */
class TestWsTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T) => void;
  #ws: WebSocket | undefined;
  readonly #url: string;
  readonly #token: string;

  constructor(url: string, token: string) {
    this.#url = url;
    this.#token = token;
  }

  async start(): Promise<void> {
    const ws = new WebSocket(this.#url, ['mcp'], { headers: { authorization: `Bearer ${this.#token}` } });
    this.#ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.onerror?.(new Error('binary frame'));
      this.onmessage?.(JSON.parse(data.toString()) as JSONRPCMessage);
    });
    ws.on('close', () => this.onclose?.());
    ws.on('error', (err) => this.onerror?.(err));
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.#ws?.send(JSON.stringify(message));
  }

  async close(): Promise<void> {
    this.#ws?.close(1000);
  }
}

type Mode = 'legacy' | 'auto' | { pin: typeof MODERN };

async function sdkClient(url: string, token: string, mode: Mode): Promise<Client> {
  const client = new Client({ name: 'ws-interop-test', version: '1.0.0' }, { versionNegotiation: { mode } });
  await client.connect(new TestWsTransport(url, token));
  return client;
}

/** Collects every frame of a raw socket; `next(id)` resolves with the reply of that id. */
function collector(ws: WebSocket) {
  const seen: Reply[] = [];
  const waiters = new Map<unknown, (r: Reply) => void>();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as Reply;
    seen.push(msg);
    waiters.get(msg.id)?.(msg);
  });
  return {
    seen,
    send: (msg: unknown) => ws.send(JSON.stringify(msg)),
    next: (id: unknown) =>
      new Promise<Reply>((resolve) => {
        const found = seen.find((m) => m.id === id && ('result' in m || 'error' in m));
        if (found) return resolve(found);
        waiters.set(id, resolve);
      }),
  };
}

function modern(id: number, method: string, params: Record<string, unknown> = {}, envelope: unknown = ENVELOPE) {
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: envelope } };
}

describe('WebSocket, 2026-07-28 and 2025-11-25', () => {
  let kc: LocalIssuer;
  let server: TestServer;
  let root: string;
  let full: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'ws-modern-'));
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    writeFileSync(path.join(root, 'huge.txt'), 'h'.repeat(16 * MiB));
    kc = await startLocalIssuer();
    full = await kc.sign();
    server = await startTestServer(kc, root, { MAX_FILE_BYTES: String(32 * MiB) });
  });
  after(async () => {
    await server.close();
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function raw(token = full): Promise<WebSocket> {
    const ws = await connect(server.wsUrl, { token });
    assert.ok(!isRefused(ws));
    return ws;
  }

  it('serves an SDK v2 client pinned to 2026-07-28 over a WebSocket transport', async () => {
    const client = await sdkClient(server.wsUrl, full, { pin: MODERN });
    assert.equal(client.getProtocolEra(), 'modern');
    assert.deepEqual(client.getDiscoverResult()?.supportedVersions, [MODERN]);
    assert.deepEqual(
      (await client.listTools()).tools.map((t) => t.name),
      ['list-files', 'read-file'],
    );
    const read = await client.callTool({ name: 'read-file', arguments: { filePath: 'a.txt' } });
    assert.match(JSON.stringify(read.content), /hello/);
    await client.close();
  });

  it('negotiates 2026-07-28 in auto mode and serves a legacy-mode client with initialize', async () => {
    const auto = await sdkClient(server.wsUrl, full, 'auto');
    assert.equal(auto.getProtocolEra(), 'modern');
    await auto.close();
    const legacy = await sdkClient(server.wsUrl, full, 'legacy');
    assert.equal(legacy.getProtocolEra(), 'legacy');
    assert.equal(legacy.getNegotiatedProtocolVersion(), '2025-11-25');
    const read = await legacy.callTool({ name: 'read-file', arguments: { filePath: 'a.txt' } });
    assert.match(JSON.stringify(read.content), /hello/);
    await legacy.close();
  });

  it('keeps per-tool scopes on a 2026-07-28 connection; tools/list is private and lasts no longer than the token', async () => {
    const ws = await raw(await kc.sign({ scope: 'file.list' }, { expiresIn: '40s' }));
    const c = collector(ws);
    c.send(modern(1, 'tools/list'));
    const list = (await c.next(1)).result;
    assert.deepEqual(
      list.tools.map((t: { name: string }) => t.name),
      ['list-files'],
    );
    assert.equal(list.cacheScope, 'private');
    assert.ok(list.ttlMs > 0 && list.ttlMs <= 40_000, `ttlMs ${list.ttlMs}`);
    c.send(modern(2, 'tools/call', { name: 'read-file', arguments: { filePath: 'a.txt' } }));
    const denied = (await c.next(2)).result;
    assert.equal(denied.isError, true);
    assert.match(JSON.stringify(denied.content), /read-file needs scope file\.read/);
    ws.close();
  });

  it('validates the envelope of every 2026-07-28 request, echoing the id', async () => {
    const ws = await raw();
    const c = collector(ws);
    c.send(modern(1, 'server/discover'));
    assert.deepEqual((await c.next(1)).result.supportedVersions, [MODERN]);
    c.send(modern(2, 'tools/list'));
    assert.ok((await c.next(2)).result.tools);
    c.send({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} });
    const bare = await c.next(3);
    assert.equal(bare.error?.code, -32602, JSON.stringify(bare));
    c.send(modern(4, 'tools/list', {}, { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': 42 }));
    assert.equal((await c.next(4)).error?.code, -32602);
    // The connection is pinned: initialize is refused, not a way back to 2025-11-25.
    c.send({
      jsonrpc: '2.0',
      id: 5,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    });
    const init = await c.next(5);
    assert.ok(init.error, JSON.stringify(init));
    ws.close();
  });

  it('answers an unsupported revision with -32022 naming the supported ones', async () => {
    const ws = await raw();
    const c = collector(ws);
    c.send(modern(7, 'tools/list', {}, { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }));
    const reply = await c.next(7);
    assert.equal(reply.error?.code, -32022);
    assert.deepEqual(reply.error?.data, { supported: [MODERN], requested: '2099-01-01' });
    ws.close();
  });

  it('pins 2025-11-25 on initialize: 2025 requests are served as before', async () => {
    const ws = await raw();
    await initialize(ws);
    const c = collector(ws);
    c.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const list = (await c.next(1)).result;
    assert.equal(list.ttlMs, undefined, 'no 2026-07-28 cache fields on a 2025-11-25 connection');
    assert.equal(list.resultType, undefined);
    ws.close();
  });

  it('cancels a 2026-07-28 call with notifications/cancelled: no response, the connection serves on', async () => {
    const ws = await raw();
    const c = collector(ws);
    c.send(modern(1, 'server/discover'));
    await c.next(1);
    // Both frames leave in one write, so the cancellation is read before the read completes.
    ws.send(JSON.stringify(modern(2, 'tools/call', { name: 'read-file', arguments: { filePath: 'huge.txt' } })));
    c.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2, _meta: ENVELOPE } });
    c.send(modern(3, 'tools/list'));
    assert.ok((await c.next(3)).result.tools);
    // A read of 16 MiB finishes within a few ms when not cancelled; a bounded wait proves the absence.
    c.send(modern(4, 'tools/call', { name: 'read-file', arguments: { filePath: 'a.txt' } }));
    await c.next(4);
    assert.equal(
      c.seen.some((m) => m.id === 2),
      false,
      'the cancelled call was answered',
    );
    // The aborted read logs when its threadpool work returns, which may be after call 4 (served inline when warm).
    await waitForLog(
      server.logs,
      (l) => l.event === 'tool.call' && l.path === 'huge.txt',
      5_000,
      'the huge read logged',
    );
    const huge = server.logs.filter((l) => l.event === 'tool.call' && l.path === 'huge.txt');
    assert.deepEqual(
      huge.map((l) => l.outcome),
      ['aborted'],
      'the read was aborted',
    );
    ws.close();
  });
});
