// Shutdown: close() stops accepting, lets a tool call in flight finish within SHUTDOWN_GRACE_MS,
// then closes sockets with 1001; a call that outlasts the grace does not hold shutdown.
// To hold a call in flight deterministically, the test fills libuv's threadpool (the server runs
// in this process) with pbkdf2 work: the call's file operations queue behind it.
import assert from 'node:assert/strict';
import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from 'mcp-ws-common';
import type WebSocket from 'ws';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer } from './helpers/test-server.ts';
import { closed, connect, initialize, isRefused, request } from './helpers/ws-client.ts';

let kc: LocalIssuer;
let root: string;

before(async () => {
  kc = await startLocalIssuer();
  root = mkdtempSync(join(tmpdir(), 'mcp-shutdown-'));
  writeFileSync(join(root, 'a.txt'), 'hello');
});
after(async () => {
  await kc.close();
  rmSync(root, { recursive: true, force: true });
});

/** Occupies every threadpool thread for roughly `ms`; resolves when they are free again. */
function busyThreadpool(ms: number): Promise<unknown> {
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  // Roughly `ms` on the machines seen (~3000 sha256 iterations per ms); only its order of magnitude matters.
  const iterations = ms * 3000;
  return Promise.all(
    Array.from(
      { length: threads },
      () => new Promise((resolve) => pbkdf2('p', 's', iterations, 32, 'sha256', () => resolve(undefined))),
    ),
  );
}

async function openSession(wsUrl: string): Promise<WebSocket> {
  const ws = await connect(wsUrl, { token: await kc.sign() });
  assert.ok(!isRefused(ws));
  await initialize(ws);
  return ws;
}

describe('shutdown', () => {
  it('lets a call in flight finish, then closes with 1001', { timeout: 10_000 }, async () => {
    const server = await startTestServer(kc, root, { SHUTDOWN_GRACE_MS: '10000' });
    const ws = await openSession(server.wsUrl);
    const gone = closed(ws);
    const busy = busyThreadpool(300);
    const reply = request(ws, 1, 'tools/call', { name: 'read-file', arguments: { filePath: 'a.txt' } });
    await new Promise((r) => setTimeout(r, 20)); // the request has reached the server and waits on the pool
    let answeredAt = 0;
    const answered = reply.then((a) => {
      answeredAt = performance.now();
      return a;
    });
    const closeStarted = performance.now();
    const stopping = server.close();
    const answer = await answered;
    assert.equal(answer.result?.isError, undefined, JSON.stringify(answer));
    assert.equal(answer.result.structuredContent.length, 5);
    assert.ok(answeredAt > closeStarted, 'the answer came while the server was shutting down');
    assert.equal((await gone).code, CloseCode.GOING_AWAY);
    await stopping;
    await busy;
  });

  it('does not wait past SHUTDOWN_GRACE_MS for a call that takes longer', { timeout: 10_000 }, async () => {
    const server = await startTestServer(kc, root, { SHUTDOWN_GRACE_MS: '50' });
    const ws = await openSession(server.wsUrl);
    const gone = closed(ws);
    const busy = busyThreadpool(1500);
    void request(ws, 1, 'tools/call', { name: 'read-file', arguments: { filePath: 'a.txt' } });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    await server.close();
    assert.ok(performance.now() - t0 < 1000, `close() took ${Math.round(performance.now() - t0)} ms`);
    assert.equal((await gone).code, CloseCode.GOING_AWAY);
    await busy;
  });
});
