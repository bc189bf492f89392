// Bounded memory per client, measured: a WebSocket peer that never reads floods read-file calls of
// a 1 MiB file (same id, distinct ids, several connections of one client). The server runs in a
// child process so its RSS is measured alone; each test reports RSS before/after and the calls
// that ran, and asserts only what proves the bound (far below the attack's size).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { connect, initialize, isRefused, request } from '../server/helpers/ws-client.ts';
import { type ChildStats, type ServerChild, startServerChild } from './server-child-client.ts';
import { clientFrame, neverReadingPeer, readFileFrame } from './ws-frames.ts';

const MiB = 1024 * 1024;
const FLOOD = 1000;

describe('memory floods (one authenticated client that never reads)', () => {
  let issuer: LocalIssuer;
  let root: string;

  before(async () => {
    issuer = await startLocalIssuer();
    root = mkdtempSync(path.join(tmpdir(), 'sec-memory-'));
    writeFileSync(path.join(root, 'big.txt'), 'x'.repeat(MiB));
  });
  after(async () => {
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function startChild(env: Record<string, string> = {}): Promise<ServerChild> {
    const child = await startServerChild({
      TARGET_DIR: root,
      OAUTH_ISSUER: issuer.issuer,
      // Only the memory budget may throttle: no rate limit, no heartbeat cutting the flood short.
      RATE_LIMIT_CALLS_PER_SECOND: '1000000',
      RATE_LIMIT_BURST: '1000000',
      HEARTBEAT_INTERVAL_MS: '0',
      ...env,
    });
    // Warm up the paths the flood takes (JIT, buffer pools), so growth is the flood's.
    const ws = await connect(child.wsUrl, { token: await issuer.sign({ azp: 'warm-up' }) });
    assert.ok(!isRefused(ws));
    await initialize(ws);
    for (let id = 1; id <= 3; id++) {
      const reply = await request(ws, id, 'tools/call', { name: 'read-file', arguments: { filePath: 'big.txt' } });
      assert.equal(reply.result?.isError, undefined);
    }
    ws.close();
    return child;
  }

  /** Polls the child until no call has run for 600 ms (the server stopped serving the flood), at most 20 s. */
  async function untilQuiet(child: ServerChild): Promise<ChildStats> {
    const deadline = Date.now() + 20_000;
    let last = await child.stats();
    let quietSince = Date.now();
    while (Date.now() - quietSince < 600) {
      if (Date.now() > deadline) throw new Error(`calls still running after 20 s (${last.calls})`);
      await new Promise((r) => setTimeout(r, 100));
      const now = await child.stats();
      if (now.calls !== last.calls) quietSince = Date.now();
      last = now;
    }
    return last;
  }

  async function flood(
    t: TestContext,
    label: string,
    env: Record<string, string>,
    peers: { azp: string; ids: (i: number) => number }[],
  ): Promise<{ grown: number; ran: number }> {
    const child = await startChild(env);
    const sockets: Socket[] = [];
    try {
      const before = await child.stats();
      for (const peer of peers) {
        const frames = Array.from({ length: FLOOD }, (_, i) => readFileFrame(peer.ids(i), 'big.txt'));
        sockets.push(await neverReadingPeer(child.port, await issuer.sign({ azp: peer.azp }), frames));
      }
      const after = await untilQuiet(child);
      const grown = after.rss - before.rss;
      const ran = after.calls - before.calls;
      t.diagnostic(
        `${label}: ${ran} of ${FLOOD * peers.length} calls ran; server RSS ${(before.rss / MiB).toFixed(1)} -> ` +
          `${(after.rss / MiB).toFixed(1)} MiB (+${(grown / MiB).toFixed(1)} MiB); heap +` +
          `${((after.heapUsed - before.heapUsed) / MiB).toFixed(1)} MiB, external +` +
          `${((after.external - before.external) / MiB).toFixed(1)} MiB`,
      );
      return { grown, ran };
    } finally {
      for (const s of sockets) s.destroy();
      await child.stop();
    }
  }

  it('same id 1000 times: duplicates refused, memory bounded', { timeout: 60_000 }, async (t) => {
    const { grown, ran } = await flood(t, 'same-id flood', {}, [{ azp: 'flood', ids: () => 7 }]);
    // Before: all 1000 ran and RSS grew 2.2 GB.
    assert.ok(ran < 64, `${ran} calls ran`);
    assert.ok(grown < 64 * MiB, `RSS grew ${(grown / MiB).toFixed(1)} MiB`);
  });

  it('1000 distinct ids: in-flight and byte budgets bound memory', { timeout: 60_000 }, async (t) => {
    const { grown, ran } = await flood(t, 'distinct-id flood', {}, [{ azp: 'flood', ids: (i) => i + 1 }]);
    assert.ok(ran < 128, `${ran} calls ran`);
    assert.ok(grown < 64 * MiB, `RSS grew ${(grown / MiB).toFixed(1)} MiB`);
  });

  it('100000 frames that each earn an error: the errors count against the byte budget too', {
    timeout: 60_000,
  }, async (t) => {
    const child = await startChild();
    try {
      const before = await child.stats();
      const junk = clientFrame('{not json');
      const socket = await neverReadingPeer(child.port, await issuer.sign({ azp: 'junk' }), Array(100_000).fill(junk));
      // Quiet means the server stopped reading: the polls see the same RSS once it is done.
      let after = await child.stats();
      for (let quiet = 0, i = 0; quiet < 5 && i < 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const now = await child.stats();
        quiet = Math.abs(now.rss - after.rss) < MiB ? quiet + 1 : 0;
        after = now;
      }
      const grown = after.rss - before.rss;
      t.diagnostic(
        `invalid-frame flood: server RSS ${(before.rss / MiB).toFixed(1)} -> ${(after.rss / MiB).toFixed(1)} MiB ` +
          `(+${(grown / MiB).toFixed(1)} MiB; heap +${((after.heapUsed - before.heapUsed) / MiB).toFixed(1)} MiB, ` +
          `external +${((after.external - before.external) / MiB).toFixed(1)} MiB) for ~` +
          `${((100_000 * 90) / MiB).toFixed(1)} MiB of error answers`,
      );
      assert.ok(grown < 48 * MiB, `RSS grew ${(grown / MiB).toFixed(1)} MiB`);
      socket.destroy();
    } finally {
      await child.stop();
    }
  });

  it('six paused connections of one client share one client budget', { timeout: 60_000 }, async (t) => {
    const peers = Array.from({ length: 6 }, () => ({ azp: 'flood', ids: (i: number) => i + 1 }));
    // Per connection 32 in flight + 4 MiB, per client 8 + 4 MiB: six connections must not get 6 x 36 MiB.
    const { grown } = await flood(
      t,
      'six connections, one client',
      { MAX_IN_FLIGHT_PER_CLIENT: '8', MAX_CLIENT_BUFFERED_BYTES: String(4 * MiB) },
      peers,
    );
    assert.ok(grown < 48 * MiB, `RSS grew ${(grown / MiB).toFixed(1)} MiB`);
  });
});
