// The bench's renewal rows time the signature check, not the server's memory of verified tokens:
// every timed `auth/renew` carries a token never sent before, and a run given too few fails instead
// of sending one again; the control renewals in between carry the connection's own token (measured
// against a real `ws` server that notes each token it receives).
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
const CONNECTION_TOKEN = 'connection-token';
const args = (tokens: string[]): RenewalArgs => ({
  ...shape,
  tokens,
  token: CONNECTION_TOKEN,
  call: { name: 'read-file', arguments: { filePath: 'a.txt' } },
  inflight: 4,
});

/** The tokens the server received other than the connection's own (the control renewals'). */
const freshReceived = () => received.filter((token) => token !== CONNECTION_TOKEN);

/** A whole measurement given the tokens it needs, on a new connection; `received` starts empty. */
async function measureWithEnoughTokens() {
  received.length = 0;
  const tokens = Array.from({ length: renewalTokensNeeded(shape) }, (_, i) => `token-${i}`);
  const ws = await openWs(url);
  try {
    return { tokens, result: await measureRenewals(ws, args(tokens)) };
  } finally {
    await closeWs(ws);
  }
}

test('every renewal sends a token of its own, and the estimate covers the run', async () => {
  const { tokens, result } = await measureWithEnoughTokens();
  assert.equal(result.idle.count, shape.idleCount);
  // A renewal every 20 ms through a run of 200 + 300 ms: about 25 sent under load.
  assert.ok(result.loaded.count >= 12, `${result.loaded.count} renewals under load`);
  const fresh = freshReceived();
  assert.equal(fresh.length, shape.idleCount + result.loaded.count);
  assert.equal(new Set(fresh).size, fresh.length, 'no token sent twice');
  assert.deepEqual(fresh, tokens.slice(0, fresh.length));
});

test('a run given too few tokens fails instead of sending one again', async () => {
  received.length = 0;
  const ws = await openWs(url);
  try {
    await assert.rejects(measureRenewals(ws, args(['only-1', 'only-2', 'only-3', 'only-4', 'only-5', 'only-6'])), {
      message: 'renewals: more than 6 tokens needed (each is sent once)',
    });
    const fresh = freshReceived();
    assert.equal(new Set(fresh).size, fresh.length, 'no token sent twice');
  } finally {
    await closeWs(ws);
  }
});

test("under load the ticks take turns: a fresh token, the connection's own token, nothing", async () => {
  const { result } = await measureWithEnoughTokens();
  const loaded = received.slice(shape.idleCount);
  assert.ok(loaded.length >= 24, `${loaded.length} renewals under load`);
  // The last tick may have renewed with a fresh token and stopped before the next one.
  for (const [i, token] of loaded.entries()) assert.equal(token === CONNECTION_TOKEN, i % 2 === 1, `renewal ${i}`);
  assert.ok(result.aroundRemembered.length > 0 && result.aroundSilent.length > 0 && result.around.length > 0);
});
