// Client-side ping: a server behind a silently dead path (a relay that stops forwarding without
// closing) is detected within pingIntervalMs + pingTimeoutMs, the socket dropped, the reconnect
// engaged and the read-only call in flight completed; a live idle connection is never dropped.
// Over Streamable HTTP the request timeout gives a dead session up instead.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isClientError, ResilientClient, type SessionEvent, StaticTokenSource } from 'mcp-client';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';
import { FakeMcpServer } from './fake-mcp-server.ts';
import { BlackholeRelay } from './relays.ts';

const PING_INTERVAL_MS = 100;
const PING_TIMEOUT_MS = 150;

/** Collects session events and resolves when one of a type arrives. */
class Events {
  readonly list: { at: number; event: SessionEvent }[] = [];
  readonly #waiters: { type: SessionEvent['type']; resolve: (e: SessionEvent) => void }[] = [];
  readonly push = (event: SessionEvent): void => {
    this.list.push({ at: performance.now(), event });
    for (const w of this.#waiters.filter((x) => x.type === event.type)) w.resolve(event);
  };
  next(type: SessionEvent['type']): Promise<SessionEvent> {
    return new Promise((resolve) => this.#waiters.push({ type, resolve }));
  }
}

describe('client-side ping', () => {
  let server: FakeMcpServer;
  let relay: BlackholeRelay;
  before(async () => {
    server = await FakeMcpServer.start({ callDelayMs: 30 });
    relay = await BlackholeRelay.start(server.port);
  });
  after(async () => {
    await relay.stop();
    await server.stop();
  });

  it('detects a blackholed connection within interval + timeout and reconnects', async () => {
    const events = new Events();
    const client = await ResilientClient.connect({
      url: relay.url,
      tokenSource: new StaticTokenSource('ok'),
      reconnect: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
      pingIntervalMs: PING_INTERVAL_MS,
      pingTimeoutMs: PING_TIMEOUT_MS,
      onEvent: events.push,
    });
    try {
      await client.listTools(); // learn the annotations: read-file is read-only
      const disconnected = events.next('disconnected');
      const reconnected = events.next('reconnected');
      const silencedAt = performance.now();
      relay.blackholeAll();
      const call = client.callTool('read-file', { filePath: 'a.txt' }); // sent into the void
      const dropped = await disconnected;
      const detectedMs = Math.round(performance.now() - silencedAt);
      console.log(
        `# liveness: blackholed connection detected after ${detectedMs} ms (bound ${PING_INTERVAL_MS + PING_TIMEOUT_MS} ms)`,
      );
      assert.deepEqual(dropped, {
        type: 'disconnected',
        code: 1006,
        reason: `no pong from the server within ${PING_TIMEOUT_MS} ms`,
      });
      // The bound plus scheduling slack for a loaded 2-core machine; without pings it never happens.
      assert.ok(detectedMs <= PING_INTERVAL_MS + PING_TIMEOUT_MS + 1_000, `detected after ${detectedMs} ms`);
      await reconnected;
      assert.deepEqual((await call).content, [{ type: 'text', text: 'contents of a.txt' }]);
    } finally {
      await client.close();
    }
  });

  it('keeps a live idle connection across many pings', async () => {
    const events = new Events();
    const client = await ResilientClient.connect({
      url: server.url,
      tokenSource: new StaticTokenSource('ok'),
      pingIntervalMs: 20,
      pingTimeoutMs: 100,
      onEvent: events.push,
    });
    try {
      const ws = [...server.wss.clients].at(-1); // this client's connection: the newest
      assert.ok(ws);
      for (let i = 0; i < 10; i++) await once(ws, 'ping'); // the server answers each with a pong
      assert.deepEqual(events.list, []);
      assert.equal((await client.callTool('read-file', { filePath: 'b.txt' })).isError, undefined);
    } finally {
      await client.close();
    }
  });
});

describe('Streamable HTTP: the request timeout plays the ping', () => {
  let issuer: LocalIssuer;
  let server: TestServer;
  let root: string;
  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'http-liveness-'));
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    issuer = await startLocalIssuer();
    server = await startTestServer(issuer, root);
  });
  after(async () => {
    await server.close();
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('a call into a dead path fails with timeout, the session is given up, the next call opens a new one', async () => {
    const relay = await BlackholeRelay.start(server.port);
    const events = new Events();
    const client = await ResilientClient.connect({
      url: relay.url.replace('ws://', 'http://'),
      tokenSource: new StaticTokenSource(await issuer.sign()),
      reconnect: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
      requestTimeoutMs: 300,
      // The subject is the 2025 session. (In 2026-07-28, fetch's keep-alive pool may hand the next
      // request another socket the relay blackholed, which then times out in turn.)
      protocol: '2025-11-25',
      onEvent: events.push,
    });
    try {
      await client.listTools();
      const disconnected = events.next('disconnected');
      relay.blackholeAll();
      await assert.rejects(client.callTool('read-file', { filePath: 'a.txt' }), (err: unknown) => {
        assert.ok(isClientError(err, 'timeout'), String(err));
        return true;
      });
      assert.deepEqual(await disconnected, { type: 'disconnected', code: 1006, reason: 'no answer within 300 ms' });
      const read = await client.callTool('read-file', { filePath: 'a.txt' });
      assert.match(JSON.stringify(read.content), /hello/);
    } finally {
      await client.close();
      await relay.stop();
    }
  });
});
