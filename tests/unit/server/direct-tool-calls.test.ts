// The direct path for tool calls (mcp/direct-tool-calls.ts) answers exactly as the SDK does: the
// same requests, sent over WebSocket in both eras to a server with the path and to one without it
// (every call through the SDK), get byte-identical frames. The corpus covers every result shape of
// the tools (text, base64 resource, pages, listings, tool errors, a hidden tool, the rate limit)
// and requests the path must leave to the SDK (invalid arguments, unknown tool, progress token,
// envelopes it has not seen accepted, refused envelopes). Cancellation and close stop a direct call
// without an answer.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { directCallStats } from '../../../mcp-server/src/mcp/direct-tool-calls.ts';
import { reusedListingCount } from '../../../mcp-server/src/tools/encoded-listings.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';
import { holdThreadpool } from './helpers/threadpool-hold.ts';
import { connect, initialize, isRefused } from './helpers/ws-client.ts';

const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};
/** The same envelope, its keys in another order: the same envelope to the SDK. */
const ENVELOPE_REORDERED = {
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/protocolVersion': MODERN,
};
type Era = 'legacy' | 'modern';
type Params = Record<string, unknown>;

/** One request of the corpus: its params (the envelope is added in the modern era unless `meta` says otherwise). */
interface Case {
  readonly label: string;
  readonly params: Params;
  readonly meta?: Record<string, unknown> | null;
  readonly id?: string;
}

const read = (filePath: string, extra: Params = {}): Params => ({
  name: 'read-file',
  arguments: { filePath, ...extra },
});

const CORPUS: readonly Case[] = [
  { label: 'text file', params: read('a.txt') },
  { label: 'text file again (now direct)', params: read('a.txt') },
  { label: 'binary file (base64 resource)', params: read('bin.dat') },
  { label: 'a page', params: read('a.txt', { offset: 1, length: 2 }) },
  { label: 'a page past the end', params: read('a.txt', { offset: 99 }) },
  { label: 'missing file', params: read('none.txt') },
  { label: 'escape attempt', params: read('../etc/passwd') },
  { label: 'a directory', params: read('sub') },
  { label: 'string id', params: read('a.txt'), id: 'str-1' },
  { label: 'unknown argument (stripped by the schema)', params: read('a.txt', { extra: 1 }) },
  { label: 'invalid arguments', params: read(5 as unknown as string) },
  { label: 'arguments missing', params: { name: 'read-file' } },
  { label: 'unknown tool', params: { name: 'nope', arguments: {} } },
  { label: 'listing', params: { name: 'list-files', arguments: {} } },
  {
    label: 'listing again (its remembered text spliced into the frame)',
    params: { name: 'list-files', arguments: {} },
  },
  { label: 'recursive listing', params: { name: 'list-files', arguments: { directory: '.', recursive: true } } },
  { label: 'listing page', params: { name: 'list-files', arguments: { limit: 1 } } },
  { label: 'listing of a file', params: { name: 'list-files', arguments: { directory: 'a.txt' } } },
  { label: 'progress token (left to the SDK)', params: read('a.txt'), meta: { progressToken: 'p1' } },
  { label: 'other params member (left to the SDK)', params: { ...read('a.txt'), task: { ttl: 1000 } } },
];

/** Envelope variations, modern era only. */
const ENVELOPE_CASES: readonly Case[] = [
  { label: 'envelope keys reordered', params: read('a.txt'), meta: ENVELOPE_REORDERED },
  {
    label: 'envelope with a log level (first time)',
    params: read('a.txt'),
    meta: { ...ENVELOPE, 'io.modelcontextprotocol/logLevel': 'info' },
  },
  {
    label: 'envelope with a log level (now known)',
    params: read('a.txt'),
    meta: { ...ENVELOPE, 'io.modelcontextprotocol/logLevel': 'info' },
  },
  {
    label: 'invalid log level',
    params: read('a.txt'),
    meta: { ...ENVELOPE, 'io.modelcontextprotocol/logLevel': null },
  },
  {
    label: 'another client version',
    params: read('a.txt'),
    meta: { ...ENVELOPE, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '2' } },
  },
  {
    label: 'a 2025 revision in the envelope',
    params: read('a.txt'),
    meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' },
  },
  { label: 'no envelope', params: read('a.txt'), meta: null },
];

/**
 * What two servers may answer differently for the same call, taken out of a frame: a listing
 * cursor is sealed with a key of its server's own (tools/list-cursor.ts), and a rate-limit answer
 * says how many ms remain, counted on each server's own clock.
 */
function comparable(frame: string): string {
  return frame
    .replace(/(nextCursor\\?":\\?")[\w-]+/g, '$1<cursor>')
    .replace(/retryAfterMs":\d+/g, 'retryAfterMs":<ms>')
    .replace(/retry after \d+ ms/g, 'retry after <ms> ms');
}

/** Sends one request frame and resolves with the raw text of the frame answering it. */
function exchange(ws: WebSocket, frame: Record<string, unknown>): Promise<string> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const text = data.toString();
      if ((JSON.parse(text) as { id?: unknown }).id === frame.id) {
        ws.off('message', onMessage);
        resolve(text);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify(frame));
  });
}

function frameOf(era: Era, c: Case, n: number): Record<string, unknown> {
  const meta = c.meta === null ? undefined : era === 'modern' ? { ...(c.meta ?? ENVELOPE) } : c.meta;
  const params = meta === undefined ? c.params : { ...c.params, _meta: meta };
  return { jsonrpc: '2.0', id: c.id ?? n, method: 'tools/call', params };
}

async function open(server: TestServer, token: string, era: Era): Promise<WebSocket> {
  const ws = await connect(server.wsUrl, { token });
  assert.ok(!isRefused(ws));
  if (era === 'legacy') await initialize(ws);
  return ws;
}

/** Runs `cases` in order on one connection per server; answers the frames of each, side by side. */
async function sideBySide(
  servers: readonly TestServer[],
  token: string,
  era: Era,
  cases: readonly Case[],
): Promise<string[][]> {
  const sockets = await Promise.all(servers.map((s) => open(s, token, era)));
  try {
    const answers: string[][] = [];
    for (const [n, c] of cases.entries()) {
      const frame = frameOf(era, c, n + 1);
      answers.push(await Promise.all(sockets.map((ws) => exchange(ws, frame))));
    }
    return answers;
  } finally {
    for (const ws of sockets) ws.close();
  }
}

describe('direct tool calls answer as the SDK does', { timeout: 60_000 }, () => {
  let issuer: LocalIssuer;
  let root: string;
  let direct: TestServer;
  let sdk: TestServer;
  let token: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'direct-calls-'));
    writeFileSync(path.join(root, 'a.txt'), 'héllo, wörld');
    writeFileSync(path.join(root, 'bin.dat'), Buffer.from([0, 1, 2, 255, 0, 7]));
    mkdirSync(path.join(root, 'sub'));
    writeFileSync(path.join(root, 'sub', 'b.txt'), 'b');
    issuer = await startLocalIssuer();
    direct = await startTestServer(issuer, root);
    sdk = await startTestServer(issuer, root, {}, { directToolCalls: false, sharedDispatch: false });
    token = await issuer.sign({}, { expiresIn: '1h' });
  });
  after(async () => {
    await Promise.all([direct.close(), sdk.close()]);
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  });

  for (const era of ['legacy', 'modern'] as const) {
    it(`${era}: every case gets the same bytes, most of them from the direct path`, async () => {
      const before = directCallStats().answered;
      const reusedBefore = reusedListingCount();
      const cases = era === 'modern' ? [...CORPUS, ...ENVELOPE_CASES] : CORPUS;
      const answers = await sideBySide([direct, sdk], token, era, cases);
      for (const [i, [ours, reference]] of answers.entries()) {
        assert.equal(comparable(ours!), comparable(reference!), cases[i]!.label);
      }
      // Proof the comparison is not the SDK against itself: the first call of the connection and
      // the calls left to the SDK excepted, the direct path answered.
      const answered = directCallStats().answered - before;
      assert.ok(answered >= 12, `direct path answered ${answered} calls`);
      assert.ok(reusedListingCount() > reusedBefore, 'no listing was answered with its remembered text');
    });
  }

  it('a hidden tool and the rate limit answer alike', async () => {
    const limited = [
      await startTestServer(issuer, root, { RATE_LIMIT_CALLS_PER_SECOND: '0.001', RATE_LIMIT_BURST: '3' }),
      await startTestServer(
        issuer,
        root,
        { RATE_LIMIT_CALLS_PER_SECOND: '0.001', RATE_LIMIT_BURST: '3' },
        { directToolCalls: false, sharedDispatch: false },
      ),
    ];
    try {
      const listOnly = await issuer.sign({ scope: 'file.list' }, { expiresIn: '1h' });
      for (const era of ['legacy', 'modern'] as const) {
        const before = directCallStats().answered;
        const cases = Array.from({ length: 3 }, (_, i) => ({ label: `hidden tool ${i}`, params: read('a.txt') }));
        const answers = await sideBySide(limited, listOnly, era, cases);
        for (const [i, [ours, reference]] of answers.entries()) assert.equal(ours, reference, cases[i]!.label);
        assert.match(answers[2]![0]!, /needs scope file\.read/);
        assert.equal(directCallStats().answered - before, 2);
      }
      // Out of its burst of 3 (hidden-tool calls are refused before the limit is consulted), a
      // client is refused by the limit: in both eras, with retryAfterMs in _meta.
      const busy = await issuer.sign({ azp: 'busy-client' }, { expiresIn: '1h' });
      const four = Array.from({ length: 4 }, (_, i) => ({ label: `call ${i}`, params: read('a.txt') }));
      const legacy = await sideBySide(limited, busy, 'legacy', four);
      const modern = await sideBySide(limited, busy, 'modern', four.slice(0, 2));
      for (const [ours, reference] of [...legacy, ...modern]) assert.equal(comparable(ours!), comparable(reference!));
      assert.match(legacy[3]![0]!, /^\{"result":\{"_meta":\{"retryAfterMs":\d+\},"content":/);
      assert.match(modern[1]![0]!, /"_meta":\{"retryAfterMs":\d+,"io.modelcontextprotocol\/serverInfo"/);
    } finally {
      await Promise.all(limited.map((s) => s.close()));
    }
  });

  it('a cancelled direct call gets no answer and the connection goes on', async () => {
    const ws = await open(direct, token, 'legacy');
    try {
      await exchange(ws, frameOf('legacy', CORPUS[0]!, 1));
      const before = directCallStats().answered;
      const hold = holdThreadpool();
      const answers: unknown[] = [];
      ws.on('message', (data) => answers.push(JSON.parse(data.toString()).id));
      try {
        // The file is read on the threadpool (not warm at this offset): the call waits for the hold.
        ws.send(JSON.stringify(frameOf('legacy', { label: 'held', params: read('a.txt', { offset: 1 }) }, 2)));
        ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } }));
      } finally {
        await hold.release();
      }
      const next = JSON.parse(await exchange(ws, frameOf('legacy', CORPUS[0]!, 3)));
      assert.equal(next.result.isError, undefined);
      assert.deepEqual(answers, [3]);
      assert.equal(directCallStats().answered - before, 1);
    } finally {
      ws.close();
    }
  });
});
