// Streamable HTTP is bounded too: requests in flight and their response bytes count against the
// client's budget, shared with its WebSocket connections. A client whose responses are not read
// holds its budget; its next request gets 429 + Retry-After (JSON-RPC error echoing the id), and
// its WebSocket calls wait, until the stuck responses go away.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { waitUntil } from '../../support/wait.ts';
import { call, openSession, PROTOCOL_VERSION, rpc } from '../server/helpers/http-client.ts';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';
import { connect, initialize, isRefused, request } from '../server/helpers/ws-client.ts';

const MiB = 1024 * 1024;

/** POSTs `body` in `session` on a raw socket that never reads the answer. */
async function postNeverReading(port: number, token: string, session: string, body: unknown): Promise<Socket> {
  const text = JSON.stringify(body);
  const socket = tcpConnect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause();
  socket.write(
    [
      'POST /mcp HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      `Authorization: Bearer ${token}`,
      'Content-Type: application/json',
      'Accept: application/json, text/event-stream',
      `Mcp-Session-Id: ${session}`,
      `Mcp-Protocol-Version: ${PROTOCOL_VERSION}`,
      `Content-Length: ${Buffer.byteLength(text)}`,
      '',
      text,
    ].join('\r\n'),
  );
  return socket;
}

describe('Streamable HTTP budget per client', () => {
  let issuer: LocalIssuer;
  let root: string;
  let server: TestServer;

  before(async () => {
    issuer = await startLocalIssuer();
    root = mkdtempSync(path.join(tmpdir(), 'sec-http-budget-'));
    // Larger than what loopback socket buffers absorb, so an unread response stays in flight.
    writeFileSync(path.join(root, 'huge.txt'), 'h'.repeat(24 * MiB));
    server = await startTestServer(issuer, root, {
      MAX_IN_FLIGHT_PER_CLIENT: '2',
      MAX_FILE_BYTES: String(32 * MiB),
    });
  });
  after(async () => {
    await server.close();
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses with 429 while unread responses hold the budget; WebSocket calls of the client wait', {
    timeout: 30_000,
  }, async () => {
    const token = await issuer.sign({ azp: 'hoarder' });
    const session = await openSession(server.httpUrl, token);
    const read = (id: number) => rpc(id, 'tools/call', { name: 'read-file', arguments: { filePath: 'huge.txt' } });
    const stuck = [
      await postNeverReading(server.port, token, session, read(1)),
      await postNeverReading(server.port, token, session, read(2)),
    ];
    await waitUntil(
      () => server.logs.filter((l) => l.event === 'tool.call' && l.azp === 'hoarder').length >= 2,
      20_000,
      20,
      'the two reads ran',
    );

    const refused = await call(server.httpUrl, token, session, 3, 'ping');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.reply?.error?.code, -32000);
    assert.equal(refused.reply?.id, 3, 'the error echoes the request id');
    assert.ok(server.logs.some((l) => l.reason === 'over_budget' && l.azp === 'hoarder'));
    // Another client is served meanwhile.
    const other = await issuer.sign({ azp: 'other' });
    assert.equal((await call(server.httpUrl, other, await openSession(server.httpUrl, other), 1, 'ping')).status, 200);

    // The same client's WebSocket call waits for the client's budget (not refused, not lost).
    const ws = await connect(server.wsUrl, { token });
    assert.ok(!isRefused(ws));
    await (async () => {
      let answered = false;
      // initialize is a request too: it waits like any other.
      const init = initialize(ws as WebSocket).then(() => {
        answered = true;
      });
      // Proving an absence needs a bounded wait: the frame reaches the server within a few ms on
      // loopback, and must still be waiting 100 ms later.
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(answered, false, 'a WebSocket request ran while the client was over its budget');
      for (const s of stuck) s.destroy();
      await init;
    })();
    assert.deepEqual((await request(ws as WebSocket, 9, 'ping')).result, {});
    assert.equal((await call(server.httpUrl, token, session, 4, 'ping')).status, 200);
    (ws as WebSocket).close();
  });
});
