// The bench's handshake rows time every kind in the same moments: the load generator alternates
// the targets handshake by handshake (each round starting with the next one), against real `ws`
// servers, and a first answer that is not a result fails the row instead of being timed.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { type Child, startChild } from '../../../bench/child.ts';
import type { Sample } from '../../../bench/stats.ts';

const order: string[] = [];
const servers: WebSocketServer[] = [];
let loadWs: Child;

/** A ws server named `name` that answers every first request with `reply` and notes each connection. */
async function server(name: string, reply: string): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws, req) => {
    order.push(`${name}:${req.headers.authorization ?? 'none'}`);
    ws.on('message', (data: Buffer) => {
      if (data.includes('"id":0')) ws.send(reply);
    });
  });
  servers.push(wss);
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/mcp`;
}

before(() => {
  loadWs = startChild(new URL('../../../bench/load-ws.ts', import.meta.url));
});

after(async () => {
  await loadWs.stop();
  await Promise.all(servers.map((wss) => new Promise<void>((resolve) => wss.close(() => resolve()))));
});

test('targets alternate handshake by handshake, each round starting with the next one', async () => {
  const ok = '{"jsonrpc":"2.0","id":0,"result":{}}';
  const a = await server('a', ok);
  const b = await server('b', ok);
  order.length = 0;
  const samples = await loadWs.call<Sample[]>('handshakes', {
    targets: [
      { url: a, token: 't', era: 'legacy' },
      { url: b, era: 'modern' },
    ],
    count: 3,
    maxMs: 10_000,
  });
  assert.deepEqual(order, ['a:Bearer t', 'b:none', 'b:none', 'a:Bearer t', 'a:Bearer t', 'b:none']);
  assert.equal(samples.length, 2);
  for (const sample of samples) {
    assert.equal(sample.count, 3);
    assert.ok(sample.p50 > 0 && sample.p99 >= sample.p50);
  }
});

test('a first answer that is not a result fails the row', async () => {
  const refused = await server('refused', '{"jsonrpc":"2.0","id":0,"error":{"code":-32600,"message":"no"}}');
  await assert.rejects(
    loadWs.call('handshakes', { targets: [{ url: refused }], count: 2, maxMs: 10_000 }),
    /the first request failed/,
  );
});
