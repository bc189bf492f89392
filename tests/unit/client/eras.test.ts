// Dual-era client: 2026-07-28 by default, 2025-11-25 against servers that only speak that, on
// WebSocket (fake server: plain McpServer, or the SDK's serveStdio entry over the socket) and
// Streamable HTTP (the SDK's createMcpHandler, and a sessionful 2025-only server); pins refuse
// the other era; reconnects negotiate again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientError, type ProtocolChoice, ResilientClient, type SessionEvent, StaticTokenSource } from 'mcp-client';
import { FakeMcpServer } from './fake-mcp-server.ts';
import { startSdkHttpServer } from './sdk-http-server.ts';

const token = new StaticTokenSource('tok');
const text = (r: { content: unknown[] }) => (r.content[0] as { text: string }).text;
const PROTOCOL_META = 'io.modelcontextprotocol/protocolVersion';

function connect(url: string, protocol?: ProtocolChoice, onEvent?: (e: SessionEvent) => void) {
  return ResilientClient.connect({
    url,
    tokenSource: token,
    reconnect: { maxAttempts: 4, baseDelayMs: 10 },
    ...(protocol ? { protocol } : {}),
    onEvent,
  });
}

describe('MCP eras over WebSocket', () => {
  it('auto speaks 2026-07-28 to a dual-era server: server/discover, no initialize, _meta on each request', async () => {
    const server = await FakeMcpServer.start({ era: 'dual' });
    const client = await connect(server.url);
    try {
      assert.equal(client.protocolVersion, '2026-07-28');
      assert.equal(text(await client.callTool('read-file', { filePath: 'a.txt' })), 'contents of a.txt');
      assert.deepEqual(server.methods, ['server/discover', 'tools/call']);
      for (const r of server.requests)
        assert.equal((r.params?._meta as Record<string, unknown> | undefined)?.[PROTOCOL_META], '2026-07-28');
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('auto falls back to 2025-11-25 when a 2025-only server answers server/discover with -32601', async () => {
    const server = await FakeMcpServer.start({ era: 'legacy' });
    const client = await connect(server.url);
    try {
      assert.equal(client.protocolVersion, '2025-11-25');
      assert.deepEqual(client.serverInfo, { name: 'fake-mcp', version: '9.9.9' });
      assert.equal(text(await client.callTool('read-file', { filePath: 'a.txt' })), 'contents of a.txt');
      assert.deepEqual(server.methods, ['server/discover', 'initialize', 'tools/call']);
      assert.equal(server.upgrades, 1, 'the fallback rides the probed connection');
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('2025-11-25 pinned sends initialize at once, also to a dual-era server', async () => {
    const server = await FakeMcpServer.start({ era: 'dual' });
    const client = await connect(server.url, '2025-11-25');
    try {
      assert.equal(client.protocolVersion, '2025-11-25');
      await client.listTools();
      assert.deepEqual(server.methods, ['initialize', 'tools/list']);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('2026-07-28 pinned refuses a 2025-only server with a protocol error that names the setting', async () => {
    const server = await FakeMcpServer.start({ era: 'legacy' });
    try {
      await assert.rejects(connect(server.url, '2026-07-28'), (err: unknown) => {
        assert.ok(err instanceof ClientError);
        assert.equal(err.code, 'protocol');
        assert.match(err.message, /does not speak MCP 2026-07-28.*MCP_PROTOCOL \(--protocol\) to auto/);
        return true;
      });
      assert.deepEqual(server.methods, ['server/discover']);
    } finally {
      await server.stop();
    }
  });

  it('a dropped 2026-07-28 connection reconnects and the call in flight is re-sent, with no session to restore', async () => {
    const server = await FakeMcpServer.start({ era: 'dual', callDelayMs: 100 });
    const events: SessionEvent[] = [];
    const client = await connect(server.url, undefined, (e) => events.push(e));
    try {
      await client.listTools();
      const call = client.callTool('read-file', { filePath: 'b.txt' });
      await server.waitForCalls(1);
      server.closeAll(1001, 'restart');
      assert.equal(text(await call), 'contents of b.txt');
      assert.equal(client.protocolVersion, '2026-07-28');
      assert.deepEqual(server.methods, [
        'server/discover',
        'tools/list',
        'tools/call',
        'server/discover',
        'tools/call',
      ]);
      assert.deepEqual(
        events.map((e) => e.type),
        ['disconnected', 'reconnecting', 'reconnected'],
      );
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

describe('MCP eras over Streamable HTTP', () => {
  it('auto speaks 2026-07-28 to the SDK handler: every POST carries MCP-Protocol-Version', async () => {
    const server = await startSdkHttpServer('dual');
    const client = await connect(server.url);
    try {
      assert.equal(client.protocolVersion, '2026-07-28');
      assert.equal(text(await client.callTool('read-file', { filePath: 'a.txt' })), 'contents of a.txt');
      assert.deepEqual(server.methods, ['server/discover', 'tools/list', 'tools/call']);
      assert.deepEqual(server.versionHeaders, ['2026-07-28', '2026-07-28', '2026-07-28']);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('2026-07-28: lists the tools before the first call on a connection, so x-mcp-header parameters become Mcp-Param-* headers', async () => {
    const server = await startSdkHttpServer('dual');
    const client = await connect(server.url);
    try {
      assert.equal(text(await client.callTool('where', { region: 'eu-west-1' })), 'region eu-west-1');
      assert.equal(text(await client.callTool('where', { region: 'ap-south-1' })), 'region ap-south-1');
      assert.deepEqual(server.methods, ['server/discover', 'tools/list', 'tools/call', 'tools/call']);
      assert.deepEqual(server.regionHeaders, ['eu-west-1', 'ap-south-1']);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('auto falls back to a 2025-11-25 session when the server answers the probe 400 / -32000', async () => {
    const server = await startSdkHttpServer('legacy');
    const client = await connect(server.url);
    try {
      assert.equal(client.protocolVersion, '2025-11-25');
      assert.equal(text(await client.callTool('read-file', { filePath: 'a.txt' })), 'contents of a.txt');
      assert.deepEqual(server.methods, ['server/discover', 'initialize', 'notifications/initialized', 'tools/call']);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('2026-07-28 pinned refuses a 2025-only server; 2025-11-25 pinned talks to the SDK handler in 2025 terms', async () => {
    const legacy = await startSdkHttpServer('legacy');
    const dual = await startSdkHttpServer('dual');
    try {
      await assert.rejects(connect(legacy.url, '2026-07-28'), { name: 'ClientError', code: 'protocol' });
      const client = await connect(dual.url, '2025-11-25');
      assert.equal(client.protocolVersion, '2025-11-25');
      await client.listTools();
      await client.close();
      assert.deepEqual(dual.methods, ['initialize', 'notifications/initialized', 'tools/list']);
    } finally {
      await legacy.close();
      await dual.close();
    }
  });
});
