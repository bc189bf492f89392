// ResilientClient over Streamable HTTP against the real server: a 2025-11-25 session the server
// no longer knows (reaped when idle, or lost in a restart) is replaced by a new one and the call
// re-sent, the same guarantee as a WebSocket reconnect; close() ends the server's session with
// DELETE. In 2026-07-28 (no sessions) a restart or an outage is a reconnect and a re-send too.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isClientError, type ProtocolChoice, ResilientClient, type SessionEvent, StaticTokenSource } from 'mcp-client';
import { waitForLog } from '../../support/wait.ts';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';

const IDLE_MS = 200;

const sessionsOf = (s: TestServer) =>
  s.logs.filter((l) => l.event === 'auth.accepted' && l.transport === 'http').map((l) => String(l.session));

describe('ResilientClient over Streamable HTTP', () => {
  let kc: LocalIssuer;
  let root: string;
  let token: string;
  const servers: TestServer[] = [];

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'http-session-'));
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    kc = await startLocalIssuer();
    token = await kc.sign();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function start(env: Record<string, string> = {}): Promise<TestServer> {
    const s = await startTestServer(kc, root, env);
    servers.push(s);
    return s;
  }

  /** Sessions exist in 2025-11-25 only: the session tests pin it. */
  async function connect(
    url: string,
    events: SessionEvent[] = [],
    maxAttempts = 4,
    protocol: ProtocolChoice = '2025-11-25',
  ): Promise<ResilientClient> {
    return ResilientClient.connect({
      url,
      protocol,
      tokenSource: new StaticTokenSource(token),
      reconnect: { maxAttempts, baseDelayMs: 10 },
      onEvent: (e) => events.push(e),
    });
  }

  it('opens a new session and re-sends the call after the server reaped the idle one', async () => {
    const server = await start({ SESSION_IDLE_TIMEOUT_MS: String(IDLE_MS) });
    const events: SessionEvent[] = [];
    const client = await connect(server.httpUrl, events);
    try {
      assert.equal((await client.callTool('read-file', { filePath: 'a.txt' })).isError, undefined);
      const [first] = sessionsOf(server);
      assert.ok(first);
      await waitForLog(
        server.logs,
        (l) => l.event === 'connection.closed' && l.session === first && l.reason === 'idle',
        IDLE_MS * 20,
        'the idle close',
      );
      const read = await client.callTool('read-file', { filePath: 'a.txt' });
      assert.equal(read.isError, undefined);
      assert.match(JSON.stringify(read.content), /hello/);
      assert.deepEqual((await client.listTools()).map((t) => t.name).sort(), ['list-files', 'read-file']);
      const sessions = sessionsOf(server);
      assert.equal(sessions.length, 2);
      assert.notEqual(sessions[1], first);
      const disconnected = events.find((e) => e.type === 'disconnected');
      assert.equal(disconnected?.type === 'disconnected' && disconnected.code, 1001);
      assert.ok(events.some((e) => e.type === 'reconnected'));
    } finally {
      await client.close();
    }
  });

  for (const protocol of ['2025-11-25', '2026-07-28'] as const) {
    it(`re-sends the call after a server restart (same port) in ${protocol}`, async () => {
      const first = await start();
      const client = await connect(first.httpUrl, [], 4, protocol);
      try {
        assert.equal(client.protocolVersion, protocol);
        assert.ok((await client.callTool('list-files', { directory: '.' })).structuredContent);
        await first.close();
        const second = await start({ PORT: String(first.port) });
        const listing = await client.callTool('list-files', { directory: '.' });
        assert.equal(listing.isError, undefined);
        // A 2025 client opened a new session; a 2026 one has none (each request stands alone).
        assert.equal(sessionsOf(second).length, protocol === '2025-11-25' ? 1 : 0);
        assert.equal(client.protocolVersion, protocol);
      } finally {
        await client.close();
      }
    });
  }

  it('keeps a call made while the server is down and completes it once the server is back', async () => {
    const first = await start();
    let failedOnce!: () => void;
    const reconnectFailed = new Promise<void>((resolve) => {
      failedOnce = resolve;
    });
    const client = await ResilientClient.connect({
      url: first.httpUrl,
      protocol: '2026-07-28',
      tokenSource: new StaticTokenSource(token),
      reconnect: { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 400 },
      onEvent: (e) => (e.type === 'reconnect_failed' ? failedOnce() : undefined),
    });
    try {
      assert.ok((await client.callTool('list-files', { directory: '.' })).structuredContent);
      await first.close();
      const pending = client.callTool('read-file', { filePath: 'a.txt' });
      await reconnectFailed; // the call met a refused connection, then a refused reconnect
      await start({ PORT: String(first.port) });
      const read = await pending;
      assert.equal(read.isError, undefined);
      assert.match(JSON.stringify(read.content), /hello/);
    } finally {
      await client.close();
    }
  });

  it('fails the call with connect_failed when reconnecting is disabled', async () => {
    const server = await start();
    const client = await connect(server.httpUrl, [], 0);
    try {
      await client.listTools();
      const [session] = sessionsOf(server);
      // End the session behind the client's back (as the idle reaper would).
      const res = await fetch(server.httpUrl, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}`, 'mcp-session-id': String(session) },
      });
      assert.equal(res.status, 200);
      await assert.rejects(client.listTools(), (err: unknown) => {
        assert.ok(isClientError(err, 'connect_failed'), String(err));
        assert.match(err.message, /404/);
        return true;
      });
    } finally {
      await client.close();
    }
  });

  it('ends its server session with DELETE on close()', async () => {
    const server = await start();
    const client = await connect(server.httpUrl);
    await client.listTools();
    const [session] = sessionsOf(server);
    await client.close();
    const closed = server.logs.find((l) => l.event === 'connection.closed' && l.session === session);
    assert.equal(closed?.reason, 'deleted');
  });
});
