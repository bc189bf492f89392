// Heartbeat vs backpressure: a connection the server stopped reading (in-flight cap, full backlog)
// or a slow reader whose pongs wait behind responses is slow, not dead, and survives; a peer that
// neither reads nor sends is still terminated.
import assert from 'node:assert/strict';
import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { waitForLog } from '../../support/wait.ts';
import { neverReadingPeer, readFileFrame } from '../security/ws-frames.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';
import { connect, initialize, isRefused, type Reply } from './helpers/ws-client.ts';

const HEARTBEAT_MS = 100;

/** Occupies every threadpool thread for roughly `ms` (file reads queue behind); resolves when free. */
function busyThreadpool(ms: number): Promise<unknown> {
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  return Promise.all(
    Array.from(
      { length: threads },
      () => new Promise((resolve) => pbkdf2('p', 's', ms * 3000, 32, 'sha256', () => resolve(undefined))),
    ),
  );
}

/** Collects replies by id; resolves `all` once `count` replies arrived. */
function collect(ws: WebSocket, count: number): { replies: Map<unknown, Reply>; all: Promise<void> } {
  const replies = new Map<unknown, Reply>();
  const all = new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Reply;
      replies.set(msg.id, msg);
      if (replies.size >= count) resolve();
    });
  });
  return { replies, all };
}

/** Rejects when `ws` closes first: a terminated connection fails the test at once, not at its timeout. */
function failOnClose(ws: WebSocket, what: string): Promise<never> {
  return new Promise((_resolve, reject) =>
    ws.once('close', (code) => reject(new Error(`${what}: closed with ${code} before the calls finished`))),
  );
}

describe('heartbeat tells slow from dead', () => {
  let issuer: LocalIssuer;
  let root: string;
  let server: TestServer;

  before(async () => {
    issuer = await startLocalIssuer();
    root = mkdtempSync(path.join(tmpdir(), 'ws-liveness-'));
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    writeFileSync(path.join(root, 'mid.txt'), 'm'.repeat(128 * 1024));
    writeFileSync(path.join(root, 'big.txt'), 'b'.repeat(1024 * 1024));
    server = await startTestServer(issuer, root, {
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
      MAX_IN_FLIGHT_PER_CONNECTION: '1',
      RATE_LIMIT_BURST: '100000',
      RATE_LIMIT_CALLS_PER_SECOND: '100000',
    });
  });
  after(async () => {
    await server.close();
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function open(azp: string): Promise<WebSocket> {
    const ws = await connect(server.wsUrl, { token: await issuer.sign({ azp }) });
    assert.ok(!isRefused(ws));
    await initialize(ws);
    return ws;
  }

  it('keeps a connection not read for many intervals while its calls wait (in-flight cap)', {
    timeout: 20_000,
  }, async () => {
    const ws = await open('capped');
    const terminated = failOnClose(ws, 'terminated while it waited on its own calls');
    const PINGS = 600; // ~100 KiB of waiting frames: over the backlog bound, so the socket is not read
    const { replies, all } = collect(ws, PINGS + 1);
    const busy = busyThreadpool(HEARTBEAT_MS * 8);
    ws.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'read',
        method: 'tools/call',
        params: { name: 'read-file', arguments: { filePath: 'a.txt' } },
      }),
    );
    for (let id = 1; id <= PINGS; id++) ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
    await Promise.race([Promise.all([busy, all]), terminated]);
    assert.equal(replies.get('read')?.result?.content?.[0]?.text, 'hello');
    assert.deepEqual(replies.get(PINGS)?.result, {});
    assert.ok(!server.logs.some((l) => l.reason === 'heartbeat_timeout' && l.azp === 'capped'));
    ws.close();
  });

  it('keeps a slow reader with pipelined calls whose pongs wait behind responses', { timeout: 20_000 }, async () => {
    const ws = await open('slow');
    const terminated = failOnClose(ws, 'a slow reader was terminated as dead');
    // Read one chunk (at most 64 KiB) every 15 ms: ~4 MB/s, so a ping waits behind ~0.5 s of queued responses.
    const raw = (ws as unknown as { _socket: Socket })._socket;
    raw.pause();
    const reader = setInterval(() => {
      raw.once('data', () => raw.pause());
      raw.resume();
    }, 15);
    const TOTAL = 30;
    let sent = 0;
    const call = () => {
      sent++;
      ws.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: sent,
          method: 'tools/call',
          params: { name: 'read-file', arguments: { filePath: 'mid.txt' } },
        }),
      );
    };
    let done = 0;
    const finished = new Promise<void>((resolve) => {
      ws.on('message', () => {
        done++;
        if (sent < TOTAL) call();
        if (done === TOTAL) resolve();
      });
    });
    for (let i = 0; i < 4; i++) call();
    const t0 = performance.now();
    try {
      await Promise.race([finished, terminated]);
    } finally {
      clearInterval(reader);
      raw.resume();
    }
    const ms = performance.now() - t0;
    assert.ok(ms > HEARTBEAT_MS * 3, `the read took ${Math.round(ms)} ms: too fast to prove anything`);
    ws.close();
  });

  it('still terminates a peer that neither reads nor sends, under backpressure', { timeout: 20_000 }, async () => {
    const token = await issuer.sign({ azp: 'dead' });
    const frames = Array.from({ length: 200 }, (_, i) => readFileFrame(i + 1, 'big.txt'));
    const peer = await neverReadingPeer(server.port, token, frames);
    const t0 = performance.now();
    await waitForLog(
      server.logs,
      (l) => l.event === 'connection.closed' && l.azp === 'dead' && l.code === 1006,
      15_000,
      'the dead peer terminated',
    );
    const ms = performance.now() - t0;
    assert.ok(server.logs.some((l) => l.reason === 'heartbeat_timeout'));
    assert.ok(ms < 10_000, `terminated after ${Math.round(ms)} ms`);
    peer.destroy();
  });
});
