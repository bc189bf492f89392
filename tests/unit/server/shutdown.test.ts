// Shutdown: close() stops accepting, lets a tool call in flight finish within SHUTDOWN_GRACE_MS,
// then closes sockets with 1001; a call that outlasts the grace does not hold shutdown.
// To hold a call in flight deterministically, the test blocks libuv's threadpool (the server runs
// in this process) in opens of FIFOs it releases itself: the call's file operations queue behind
// them, and the call is known to be in flight once its file operation is pending.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from 'mcp-ws-common';
import type WebSocket from 'ws';
import { clearOpenFileCache } from '../../../mcp-server/src/tools/open-file-cache.ts';
import { waitUntil } from '../../support/wait.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer } from './helpers/test-server.ts';
import { holdThreadpool, type ThreadpoolHold } from './helpers/threadpool-hold.ts';
import { closed, connect, initialize, isRefused, type Reply, request } from './helpers/ws-client.ts';

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

async function openSession(wsUrl: string): Promise<WebSocket> {
  const ws = await connect(wsUrl, { token: await kc.sign() });
  assert.ok(!isRefused(ws));
  await initialize(ws);
  return ws;
}

/** Sends a read-file call and resolves once it is in flight: its file operation waits on the held pool. */
async function callHeld(ws: WebSocket, hold: ThreadpoolHold): Promise<{ reply: Promise<Reply> }> {
  // A file read whole a moment ago is read from the open-file cache, inline: start from a miss,
  // whose realpath waits on the held threadpool.
  clearOpenFileCache();
  const held = hold.pendingFsRequests();
  const reply = request(ws, 1, 'tools/call', { name: 'read-file', arguments: { filePath: 'a.txt' } });
  await waitUntil(() => hold.pendingFsRequests() > held, 5000, 5, 'the call waiting on the held threadpool');
  return { reply };
}

describe('shutdown', () => {
  it('lets a call in flight finish, then closes with 1001', { timeout: 10_000 }, async (t) => {
    const server = await startTestServer(kc, root, { SHUTDOWN_GRACE_MS: '10000' });
    const ws = await openSession(server.wsUrl);
    const gone = closed(ws);
    const hold = holdThreadpool();
    t.after(() => hold.release());
    let answered = false;
    const reply = (await callHeld(ws, hold)).reply.then((a) => {
      answered = true;
      return a;
    });
    let stopped = false;
    const stopping = server.close().then(() => {
      stopped = true;
    });
    // Shutdown has begun and waits on the call, which cannot finish before the test lets it.
    await new Promise((r) => setImmediate(r));
    assert.equal(answered, false);
    assert.equal(stopped, false, 'close() returned while a call was in flight');
    await hold.release();
    const answer = await reply;
    assert.equal(answer.result?.isError, undefined, JSON.stringify(answer));
    assert.equal(answer.result.structuredContent.length, 5);
    assert.equal((await gone).code, CloseCode.GOING_AWAY);
    await stopping;
  });

  it('does not wait past SHUTDOWN_GRACE_MS for a call that takes longer', { timeout: 10_000 }, async (t) => {
    const server = await startTestServer(kc, root, { SHUTDOWN_GRACE_MS: '50' });
    const ws = await openSession(server.wsUrl);
    const gone = closed(ws);
    const hold = holdThreadpool();
    t.after(() => hold.release());
    let answered = false;
    void (await callHeld(ws, hold)).reply.then(
      () => {
        answered = true;
      },
      () => undefined,
    );
    const t0 = performance.now();
    await server.close();
    const ms = performance.now() - t0;
    // The call is still held (it can only end when the test releases it): close() ended on the grace.
    assert.ok(ms < 2000, `close() took ${Math.round(ms)} ms`);
    assert.equal(answered, false, 'the call was answered: it did not outlast the grace');
    assert.equal((await gone).code, CloseCode.GOING_AWAY);
    await hold.release();
  });
});
