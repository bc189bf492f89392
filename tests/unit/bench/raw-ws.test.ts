// The bench's raw handshake client against a real `ws` server: it must time only real handshakes
// (101 with the right accept key, the answer frame whole) and fail on anything else.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { clientFrame, RawWs, upgradeRequest } from '../../../bench/raw-ws.ts';

let wss: WebSocketServer;
let url: URL;
const seen: { protocol: string; authorization: string | undefined; text: string }[] = [];

before(async () => {
  wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    verifyClient: (info, done) =>
      info.req.headers.authorization === 'Bearer good' ? done(true) : done(false, 401, 'Unauthorized'),
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws, req) => {
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      seen.push({ protocol: ws.protocol, authorization: req.headers.authorization, text });
      if (text === 'close me') ws.close(4000, 'bye');
      // 70,000 bytes: the 64-bit length form; 300: the 16-bit form.
      else if (text === 'big') ws.send('x'.repeat(70_000));
      else ws.send(`{"id":0,"echo":${JSON.stringify(text === 'hello' ? 'y'.repeat(300) : text)}}`);
    });
  });
  url = new URL(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/mcp`);
});

after(() => new Promise<void>((resolve) => wss.close(() => resolve())));

test('a raw handshake sends the token and subprotocol, and reads answers of every length form', async () => {
  const ws = await RawWs.open(url, upgradeRequest(url, 'good'));
  const small = await ws.request(clientFrame('hello'), () => true);
  assert.match(small.toString(), /^\{"id":0,"echo":"y{300}"\}$/);
  const big = await ws.request(clientFrame('big'), () => true);
  assert.equal(big.length, 70_000);
  await ws.close();
  assert.deepEqual(seen.slice(-2), [
    { protocol: 'mcp', authorization: 'Bearer good', text: 'hello' },
    { protocol: 'mcp', authorization: 'Bearer good', text: 'big' },
  ]);
});

test('a refused upgrade fails the handshake with its status', async () => {
  await assert.rejects(RawWs.open(url, upgradeRequest(url, 'bad')), /upgrade refused: HTTP\/1.1 401/);
});

test('a close frame before the answer fails the request', async () => {
  const ws = await RawWs.open(url, upgradeRequest(url, 'good'));
  await assert.rejects(
    ws.request(clientFrame('close me'), () => true),
    /closed with 4000 before answering/,
  );
});

test('frames the answer test does not take are skipped', async () => {
  const ws = await RawWs.open(url, upgradeRequest(url, 'good'));
  ws.send(clientFrame('first'));
  const answer = await ws.request(clientFrame('second'), (payload) => payload.includes('"second"'));
  assert.equal(answer.toString(), '{"id":0,"echo":"second"}');
  await ws.close();
});
