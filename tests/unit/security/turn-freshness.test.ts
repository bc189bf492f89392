// What one event-loop turn proves and reads once (tools/turn-memo.ts) is shared only by requests
// read before it: over real sockets, every read sent after a file was replaced answers the new
// bytes, however many reads of the old version were in flight or shared a turn just before. Both
// paths that share: the frames of one WebSocket read, and the HTTP 2026-07-28 requests of one
// loop iteration (http/check-phase-batch.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { openFileCacheStats } from '../../../mcp-server/src/tools/open-file-cache.ts';
import { mcpRequest } from '../server/helpers/http-client.ts';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';
import { connect, initialize, isRefused, type Reply, request } from '../server/helpers/ws-client.ts';

const ROUNDS = 60;
/** Reads sent together each time: enough to share turns. */
const BURST = 12;
const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'freshness', version: '1' },
};

/** The file's text in version `v`: small (read inline once warm) and the same length each time. */
const version = (v: number) => `version ${String(v).padStart(6, '0')} ${'x'.repeat(200)}`;

describe('turn-shared proofs and reads are never served to a request sent after a change', () => {
  let issuer: LocalIssuer;
  let server: TestServer;
  let root: string;
  let token: string;
  /** The version f.txt holds now. */
  let current = 0;
  /** Replaces f.txt with version `v` (a new file renamed over it, as editors save). */
  const replace = (v: number) => {
    current = v;
    writeFileSync(path.join(root, 'next.txt'), version(v));
    renameSync(path.join(root, 'next.txt'), path.join(root, 'f.txt'));
  };
  const textOf = (reply: Reply | undefined): string => String(reply?.result?.content?.[0]?.text);

  before(async () => {
    issuer = await startLocalIssuer();
    root = mkdtempSync(path.join(tmpdir(), 'turn-freshness-'));
    replace(0);
    server = await startTestServer(issuer, root, {
      RATE_LIMIT_CALLS_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
      MAX_IN_FLIGHT_PER_CLIENT: '1000',
      MAX_IN_FLIGHT_PER_CONNECTION: '1000',
    });
    token = await issuer.sign();
  });
  after(async () => {
    await server.close();
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Rounds of: a burst of reads of version v, the replace to v + 1, then a burst that must all see v + 1. */
  const rounds = async (burst: (id: number) => Promise<string>): Promise<{ shared: number }> => {
    const before = openFileCacheStats();
    let id = 1;
    const first = current;
    for (let v = first; v < first + ROUNDS; v++) {
      const old = await Promise.all(Array.from({ length: BURST }, () => burst(id++)));
      for (const text of old) assert.ok(text === version(v) || text === version(v - 1), `an older version: ${text}`);
      replace(v + 1);
      const fresh = await Promise.all(Array.from({ length: BURST }, () => burst(id++)));
      for (const text of fresh) assert.equal(text.slice(0, 14), version(v + 1).slice(0, 14), 'sent after the replace');
    }
    const now = openFileCacheStats();
    return { shared: now.hits - before.hits - (now.proofs - before.proofs) };
  };

  it('over WebSocket: frames read together share a turn, frames sent after the replace see it', async () => {
    const ws = await connect(server.wsUrl, { token });
    assert.ok(!isRefused(ws));
    await initialize(ws as WebSocket);
    const read = async (id: number) =>
      textOf(await request(ws as WebSocket, id, 'tools/call', { name: 'read-file', arguments: { filePath: 'f.txt' } }));
    const { shared } = await rounds(read);
    (ws as WebSocket).close();
    // The sharing was exercised, not bypassed: hits served by a proof another hit made.
    assert.ok(shared > 0, `no hit shared a turn's proof (${shared})`);
  });

  it('over HTTP 2026-07-28: requests of one iteration share a turn, requests sent after the replace see it', async () => {
    const read = async (id: number) => {
      const answer = await mcpRequest(server.httpUrl, {
        token,
        body: {
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'read-file', arguments: { filePath: 'f.txt' }, _meta: ENVELOPE },
        },
        headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'read-file' },
      });
      assert.equal(answer.status, 200, answer.text);
      return textOf(answer.messages[0]);
    };
    const { shared } = await rounds(read);
    assert.ok(shared > 0, `no hit shared a turn's proof (${shared})`);
  });
});
