// What the server remembers of what the SDK accepted (envelopes, classifications, probe answers)
// is bounded in count and in size: a client sending requests with a huge envelope cannot leave
// the memos holding them after they were answered. The memo itself, then each site that uses
// it, against the real server: the same huge envelope twice is served by the SDK both times.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { directCallStats } from '../../../mcp-server/src/mcp/direct-tool-calls.ts';
import { KeyMemo, MAX_KEY_LENGTH } from '../../../mcp-server/src/mcp/envelope-key.ts';
import { learnedAnswerStats } from '../../../mcp-server/src/mcp/learned-answers.ts';
import { classificationStats } from '../../../mcp-server/src/mcp/request-classifier.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';
import { connect, isRefused, type Reply, request } from './helpers/ws-client.ts';

describe('KeyMemo', () => {
  it('keeps at most its count, the least recently remembered forgotten first', () => {
    const memo = new KeyMemo<number>(2);
    memo.remember('a', 1);
    memo.remember('b', 2);
    memo.remember('a', 3);
    memo.remember('c', 4);
    assert.equal(memo.get('b'), undefined);
    assert.equal(memo.get('a'), 3);
    assert.equal(memo.get('c'), 4);
  });

  it('never keeps a key longer than MAX_KEY_LENGTH', () => {
    const memo = new KeyMemo<number>(2);
    memo.remember('k'.repeat(MAX_KEY_LENGTH), 1);
    memo.remember('k'.repeat(MAX_KEY_LENGTH + 1), 2);
    assert.equal(memo.get('k'.repeat(MAX_KEY_LENGTH)), 1);
    assert.equal(memo.get('k'.repeat(MAX_KEY_LENGTH + 1)), undefined);
  });
});

describe('a huge envelope is never remembered', { timeout: 30_000 }, () => {
  let issuer: LocalIssuer;
  let root: string;
  let server: TestServer;
  let ws: WebSocket;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'memo-bounds-'));
    writeFileSync(path.join(root, 'a.txt'), 'a');
    issuer = await startLocalIssuer();
    server = await startTestServer(issuer, root);
    const opened = await connect(server.wsUrl, { token: await issuer.sign({}, { expiresIn: '1h' }) });
    assert.ok(!isRefused(opened));
    ws = opened;
  });
  after(async () => {
    ws.close();
    await server.close();
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** A valid envelope whose client name alone is longer than any key a memo keeps. */
  const envelope = (n: number) => ({
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: `${n}`.padEnd(MAX_KEY_LENGTH + 1, 'x'), version: '1' },
  });

  it('the same huge envelope twice: the SDK classifies and serves both, probes and tool calls alike', async () => {
    const before = {
      classified: classificationStats().remembered,
      direct: directCallStats().answered,
      probes: learnedAnswerStats().answered,
    };
    const replies: Reply[] = [];
    for (let id = 1; id <= 2; id++) {
      replies.push(await request(ws, id, 'server/discover', { _meta: envelope(1) }));
      replies.push(
        await request(ws, 10 + id, 'tools/call', {
          name: 'read-file',
          arguments: { filePath: 'a.txt' },
          _meta: envelope(2),
        }),
      );
    }
    for (const reply of replies) assert.ok(reply.result, JSON.stringify(reply).slice(0, 200));
    assert.deepEqual(
      {
        classified: classificationStats().remembered,
        direct: directCallStats().answered,
        probes: learnedAnswerStats().answered,
      },
      before,
    );
  });

  it('while an envelope of a real size is remembered at its second use (the check above can fail)', async () => {
    const small = { ...envelope(3), 'io.modelcontextprotocol/clientInfo': { name: 'small', version: '1' } };
    const probes = learnedAnswerStats().answered;
    for (let id = 21; id <= 22; id++) {
      assert.ok((await request(ws, id, 'server/discover', { _meta: small })).result);
    }
    assert.equal(learnedAnswerStats().answered - probes, 1);
  });
});
