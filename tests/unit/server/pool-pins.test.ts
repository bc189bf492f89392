// Frames leave as Buffers, and a small Buffer is a slice of a chunk of Node's shared pool that a
// pending write keeps alive whole: the bytes a connection holds count each chunk its pending frames
// are cut from, once and at its full size, so a peer that stops reading cannot make every small
// frame keep a chunk (64 KiB in Node 24) while it is counted for a few dozen bytes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Budget } from '../../../mcp-server/src/admission/budget.ts';
import { PoolPins } from '../../../mcp-server/src/transport/pool-pins.ts';
import { WsServerTransport } from '../../../mcp-server/src/transport/ws-server-transport.ts';
import { waitUntil } from '../../support/wait.ts';
import { startWsPairs, type WsPairs } from './helpers/ws-pairs.ts';

describe('PoolPins', () => {
  it('counts a chunk once for its pending frames, and again once they were all written', () => {
    const pins = new PoolPins();
    const pool = new ArrayBuffer(8192);
    const first = pins.chunkOf(Buffer.from(pool, 0, 100));
    const second = pins.chunkOf(Buffer.from(pool, 100, 50));
    assert.ok(first !== undefined && first === second, 'two slices of one chunk share its count');
    assert.equal(first.add(), 8192, 'the first pending frame holds the whole chunk');
    assert.equal(first.add(), 0);
    assert.equal(first.remove(), 0, 'the chunk is held while a frame in it is pending');
    assert.equal(first.remove(), 8192, 'the last write gives the chunk back');
    const later = pins.chunkOf(Buffer.from(pool, 150, 10));
    assert.ok(later !== undefined && later !== first, 'a chunk given back is counted anew');
    assert.equal(later.add(), 8192);
    const other = pins.chunkOf(Buffer.from(new ArrayBuffer(8192), 0, 10));
    assert.ok(other !== undefined && other !== later, 'a new chunk is a new count');
    assert.equal(pins.chunkOf(Buffer.alloc(100)), undefined, 'a buffer owning its memory pins no chunk');
  });
});

describe('WsServerTransport bytes held by pending frames', () => {
  let pairs: WsPairs;
  before(async () => {
    pairs = await startWsPairs();
  });
  after(() => pairs.close());

  /** A transport whose socket writes cannot complete (corked), booking into `budget`. */
  async function stalled(budget: Budget) {
    const { client, serverWs, serverSocket } = await pairs.open();
    const transport = new WsServerTransport(serverWs, {
      authInfo: { token: 't', clientId: 'c', scopes: [] },
      clientBudget: budget,
    });
    await transport.start();
    serverSocket.cork();
    return { client, transport, socket: serverSocket };
  }

  /**
   * Leaves the current pool chunk behind: two pooled fillers of just under half a chunk cannot
   * both fit after anything already cut from it, so the next small Buffer comes from another chunk.
   */
  const moveToNewChunk = () => {
    const half = 'f'.repeat((Buffer.poolSize >>> 1) - 1);
    return [Buffer.from(half), Buffer.from(half)];
  };

  it('counts a whole pool chunk for each chunk pending frames keep alive', { timeout: 10_000 }, async (t) => {
    const budget = new Budget({ maxInFlight: 100, maxBytes: 1 << 30 });
    const { client, transport, socket } = await stalled(budget);
    t.after(() => client.terminate());
    const frames = 20;
    for (let id = 1; id <= frames; id++) {
      moveToNewChunk();
      await transport.send({ jsonrpc: '2.0', id, result: {} });
    }
    // Each ~40-byte frame keeps its own chunk alive until the peer reads it.
    assert.ok(
      budget.bytes >= frames * Buffer.poolSize,
      `held ${budget.bytes} bytes for ${frames} frames in ${frames} chunks`,
    );
    socket.uncork();
    await waitUntil(() => budget.bytes === 0, 5000, 5, 'every write completed and gave its bytes back');
  });

  it('counts frames cut from one chunk with that chunk once', { timeout: 10_000 }, async (t) => {
    const budget = new Budget({ maxInFlight: 100, maxBytes: 1 << 30 });
    const { client, transport, socket } = await stalled(budget);
    t.after(() => client.terminate());
    const frames = 20;
    moveToNewChunk();
    for (let id = 1; id <= frames; id++) await transport.send({ jsonrpc: '2.0', id, result: {} });
    // 20 frames of ~40 bytes span at most two chunks; their overhead is counted per frame.
    assert.ok(budget.bytes <= 2 * Buffer.poolSize + frames * 1024, `held ${budget.bytes} bytes`);
    assert.ok(budget.bytes >= Buffer.poolSize + frames * 1024, `held ${budget.bytes} bytes`);
    socket.uncork();
    await waitUntil(() => budget.bytes === 0, 5000, 5, 'every write completed and gave its bytes back');
  });
});
