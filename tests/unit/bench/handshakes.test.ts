// The bench's handshake rows time every kind in the same moments: the load generator alternates
// the targets handshake by handshake (each round starting with the next one), against real `ws`
// servers, and a first answer that is not a result fails the row instead of being timed.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { type Child, startChild } from '../../../bench/child.ts';
import { countOverlapping } from '../../../bench/handshakes.ts';
import type { HandshakeTimes } from '../../../bench/load-ws.ts';

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
  const times = await loadWs.call<HandshakeTimes[]>('handshakes', {
    targets: [
      { url: a, token: 't', era: 'legacy' },
      { url: b, era: 'modern' },
    ],
    count: 3,
    maxMs: 10_000,
  });
  assert.deepEqual(order, ['a:Bearer t', 'b:none', 'b:none', 'a:Bearer t', 'a:Bearer t', 'b:none']);
  assert.equal(times.length, 2);
  for (const { sample } of times) {
    assert.equal(sample.count, 3);
    assert.ok(sample.p50 > 0 && sample.p99 >= sample.p50);
  }
});

test('handshakes over slowMs come back one by one, with their start on the epoch clock', async () => {
  const ok = '{"jsonrpc":"2.0","id":0,"result":{}}';
  const a = await server('a', ok);
  const all = await loadWs.call<HandshakeTimes[]>('handshakes', {
    targets: [{ url: a }],
    count: 4,
    maxMs: 10_000,
    slowMs: 0,
  });
  const none = await loadWs.call<HandshakeTimes[]>('handshakes', {
    targets: [{ url: a }],
    count: 4,
    maxMs: 10_000,
    slowMs: 10_000,
  });
  const unasked = await loadWs.call<HandshakeTimes[]>('handshakes', { targets: [{ url: a }], count: 4, maxMs: 10_000 });
  assert.equal(all[0]!.slow.length, 4);
  for (const [start, ms] of all[0]!.slow) {
    // performance.timeOrigin + now, not the child's own uptime (which would be seconds, not ~1.8e12).
    assert.ok(Math.abs(start - Date.now()) < 60_000, `start ${start} on the epoch clock`);
    assert.ok(ms > 0);
  }
  assert.equal(none[0]!.slow.length, 0);
  assert.equal(unasked[0]!.slow.length, 0, 'none without slowMs');
});

test('countOverlapping counts the handshakes a pause overlaps, touching ends excluded', () => {
  const pauses = [
    [100, 2],
    [200, 1],
  ] as const;
  assert.equal(countOverlapping([[99, 2]], pauses), 1); // ends inside the pause
  assert.equal(countOverlapping([[101, 0.5]], pauses), 1); // inside it
  assert.equal(countOverlapping([[90, 20]], pauses), 1); // around it
  assert.equal(countOverlapping([[102, 5]], pauses), 0); // starts as it ends
  assert.equal(countOverlapping([[95, 5]], pauses), 0); // ends as it starts
  assert.equal(
    countOverlapping(
      [
        [150, 40],
        [199, 3],
        [300, 1],
      ],
      pauses,
    ),
    1,
  );
});

test('a first answer that is not a result fails the row', async () => {
  const refused = await server('refused', '{"jsonrpc":"2.0","id":0,"error":{"code":-32600,"message":"no"}}');
  await assert.rejects(
    loadWs.call('handshakes', { targets: [{ url: refused }], count: 2, maxMs: 10_000 }),
    /the first request failed/,
  );
});
