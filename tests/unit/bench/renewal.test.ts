// The bench's renewal rows time the signature check, not the server's memory of verified tokens:
// every `auth/renew` carries a token never sent before, and a run given too few fails instead of
// sending one again (measured against a real `ws` server that notes each token it receives).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { measureRenewals, type RenewalArgs, renewalTokensNeeded } from '../../../bench/renewal.ts';
import { closeWs, frameId, openWs } from '../../../bench/wire.ts';

const received: string[] = [];
let wss: WebSocketServer;
let url: string;

before(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { method: string; params: { token?: string } };
      if (message.method === 'auth/renew') received.push(message.params.token!);
      ws.send(`{"jsonrpc":"2.0","id":${frameId(data)},"result":{}}`);
    });
  });
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/mcp`;
});

after(() => new Promise<void>((resolve) => wss.close(() => resolve())));

const shape = { idleCount: 5, durationMs: 300, intervalMs: 20, pairs: 1 };
const args = (tokens: string[]): RenewalArgs => ({
  ...shape,
  tokens,
  call: { name: 'read-file', arguments: { filePath: 'a.txt' } },
  inflight: 4,
});

test('every renewal sends a token of its own, and the estimate covers the run', async () => {
  received.length = 0;
  const tokens = Array.from({ length: renewalTokensNeeded(shape) }, (_, i) => `token-${i}`);
  const ws = await openWs(url);
  try {
    const result = await measureRenewals(ws, args(tokens));
    assert.equal(result.idle.count, shape.idleCount);
    // A renewal every 20 ms through a run of 200 + 300 ms: about 25 sent under load.
    assert.ok(result.loaded.count >= 12, `${result.loaded.count} renewals under load`);
    assert.equal(received.length, shape.idleCount + result.loaded.count);
    assert.equal(new Set(received).size, received.length, 'no token sent twice');
    assert.deepEqual(received, tokens.slice(0, received.length));
  } finally {
    await closeWs(ws);
  }
});

test('a run given too few tokens fails instead of sending one again', async () => {
  received.length = 0;
  const ws = await openWs(url);
  try {
    await assert.rejects(measureRenewals(ws, args(['only-1', 'only-2', 'only-3', 'only-4', 'only-5', 'only-6'])), {
      message: 'renewals: more than 6 tokens needed (each is sent once)',
    });
    assert.equal(new Set(received).size, received.length, 'no token sent twice');
  } finally {
    await closeWs(ws);
  }
});
