// WsServerTransport backpressure: reading stops at maxInFlight open requests and resumes as soon as
// a response is sent (no polling delay).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { WebSocket, WebSocketServer } from 'ws';
import { WsServerTransport } from '../../../mcp-server/src/transport/ws-server-transport.ts';

const authInfo = { token: 't', clientId: 'c', scopes: [] };
let wss: WebSocketServer;
let url: string;

before(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
});
after(() => {
  for (const c of wss.clients) c.terminate();
  wss.close();
});

async function pair(maxInFlight: number) {
  const serverSide = new Promise<WebSocket>((r) => wss.once('connection', r));
  const client = new WebSocket(url);
  await new Promise((r) => client.once('open', r));
  const transport = new WsServerTransport(await serverSide, { authInfo, maxInFlight });
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
  return { client, transport, received, until, request };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('WsServerTransport backpressure', () => {
  it('stops reading at maxInFlight and resumes when a response is sent', { timeout: 10_000 }, async (t) => {
    const { client, transport, received, until, request } = await pair(2);
    t.after(() => client.terminate());
    for (let id = 1; id <= 5; id++) request(id);
    await until(2);
    await settle();
    assert.equal(received.length, 2, 'a third request must wait while two are open');
    assert.equal(transport.paused, true);
    await transport.send({ jsonrpc: '2.0', id: 1, result: {} });
    // The send's completion itself resumes reading and dispatches the waiting frame: no timer involved.
    assert.equal(received.length, 3);
    assert.equal(transport.paused, true, 'two requests are open again');
    assert.deepEqual(
      received.map((m) => (m as { id: number }).id),
      [1, 2, 3],
    );
  });
});
