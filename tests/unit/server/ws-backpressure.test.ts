// WsServerTransport backpressure: requests wait at maxInFlight open requests and start as soon as
// a response is sent (no polling delay); every frame waits while the connection's or its client's
// response bytes are over budget, and the client's budget is shared by its connections.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { Budget } from '../../../mcp-server/src/admission/budget.ts';
import { WsServerTransport } from '../../../mcp-server/src/transport/ws-server-transport.ts';
import { waitUntil } from '../../support/wait.ts';
import { startWsPairs, type WsPairs } from './helpers/ws-pairs.ts';

const authInfo = { token: 't', clientId: 'c', scopes: [] };
let pairs: WsPairs;

before(async () => {
  pairs = await startWsPairs();
});
after(() => pairs.close());

async function pair(maxInFlight: number, extra: { maxBufferedBytes?: number; clientBudget?: Budget } = {}) {
  const { client, serverWs, serverSocket } = await pairs.open();
  const transport = new WsServerTransport(serverWs, { authInfo, maxInFlight, ...extra });
  const received: JSONRPCMessage[] = [];
  let notify: (() => void) | undefined;
  transport.onmessage = (m) => {
    received.push(m);
    notify?.();
  };
  await transport.start();
  const until = async (n: number) => {
    while (received.length < n) await new Promise<void>((r) => (notify = r));
  };
  const request = (id: number) => client.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
  return { client, transport, received, until, request, serverSocket };
}

/** Resolves once a frame has reached `transport` and is held there (its backlog is not empty). */
const held = (transport: WsServerTransport) =>
  waitUntil(() => transport.paused, 5000, 5, 'a frame held by the transport');

describe('WsServerTransport backpressure', () => {
  it('stops reading at maxInFlight and resumes when a response is sent', { timeout: 10_000 }, async (t) => {
    const { client, transport, received, until, request } = await pair(2);
    t.after(() => client.terminate());
    for (let id = 1; id <= 5; id++) request(id);
    await until(2);
    // Frames arrive in order: once one is held, the third has reached the server and waits.
    await held(transport);
    assert.equal(received.length, 2, 'a third request must wait while two are open');
    await transport.send({ jsonrpc: '2.0', id: 1, result: {} });
    // The send's completion itself resumes reading and dispatches the waiting frame: no timer involved.
    assert.equal(received.length, 3);
    assert.equal(transport.paused, true, 'two requests are open again');
    assert.deepEqual(
      received.map((m) => (m as { id: number }).id),
      [1, 2, 3],
    );
  });

  it('waits while the response bytes held are over budget, until their write completes', {
    timeout: 10_000,
  }, async (t) => {
    const { client, transport, received, until, request, serverSocket } = await pair(100, { maxBufferedBytes: 1024 });
    t.after(() => client.terminate());
    request(1);
    await until(1);
    // Corked, the write of a 4 KiB response cannot complete: the connection stays over its 1 KiB budget.
    serverSocket.cork();
    await transport.send({ jsonrpc: '2.0', id: 1, result: { pad: 'p'.repeat(4096) } });
    request(2);
    request(3);
    await held(transport);
    assert.equal(received.length, 1, 'a request started while the bytes held were over budget');
    serverSocket.uncork();
    await until(3);
    assert.deepEqual(
      received.map((m) => (m as { id: number }).id),
      [1, 2, 3],
    );
  });

  it("shares the client's budget between its connections", { timeout: 10_000 }, async (t) => {
    const clientBudget = new Budget({ maxInFlight: 1, maxBytes: 1024 * 1024 });
    const a = await pair(10, { clientBudget });
    const b = await pair(10, { clientBudget });
    t.after(() => {
      a.client.terminate();
      b.client.terminate();
    });
    a.request(1);
    await a.until(1);
    b.request(1);
    await held(b.transport);
    assert.equal(b.received.length, 0, "the client's one slot is taken by the other connection");
    await a.transport.send({ jsonrpc: '2.0', id: 1, result: {} });
    await b.until(1);
    assert.equal(clientBudget.inFlight, 1);
  });
});
