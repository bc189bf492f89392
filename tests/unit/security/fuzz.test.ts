// Property-based frames and JSON-RPC messages (fast-check) over live connections: the server never
// crashes, every valid request gets a response with the same id, a probe after each frame still
// answers, and RSS growth stays bounded.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';
import { connect, initialize, isRefused } from '../server/helpers/ws-client.ts';

const RUNS = 300;
const ANSWER_MS = 3000;

/** Waits for a message whose id equals `id` (compared as JSON). */
function replyWithId(ws: WebSocket, id: unknown): Promise<Record<string, unknown>> {
  const key = JSON.stringify(id);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.off('message', on);
      reject(new Error(`no reply for id ${key.slice(0, 80)}`));
    }, ANSWER_MS);
    const on = (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString());
      if (JSON.stringify(msg.id) === key) {
        clearTimeout(timer);
        ws.off('message', on);
        resolve(msg);
      }
    };
    ws.on('message', on);
  });
}

let probeCounter = 0;
/** A ping with a fresh id: proves the connection is still served. */
async function probe(ws: WebSocket): Promise<void> {
  const id = `probe-${++probeCounter}`;
  const reply = replyWithId(ws, id);
  ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
  assert.deepEqual((await reply).result, {});
}

// JSON-RPC request ids the SDK accepts: strings and integers (huge ones included).
const requestId = fc.oneof(
  fc.integer(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 0),
  fc.string({ maxLength: 40 }).filter((s) => !s.startsWith('probe-')),
);
const deep = fc.integer({ min: 1, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
const deepObject = fc
  .integer({ min: 1, max: 2000 })
  .map((n) => `{"jsonrpc":"2.0","id":1,"method":"ping","params":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`);
const methods = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    'initialize',
    'tools/list',
    'tools/call',
    'ping',
    'resources/list',
    'prompts/get',
    'logging/setLevel',
  ),
);
const validRequest = fc.record({
  jsonrpc: fc.constant('2.0'),
  id: requestId,
  method: methods,
  params: fc.option(fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 })), { nil: undefined }),
});
const toolCall = fc.record({
  jsonrpc: fc.constant('2.0'),
  id: fc.integer({ min: 1_000_000 }),
  method: fc.constant('tools/call'),
  params: fc.record({
    name: fc.constantFrom('read-file', 'list-files', 'nope'),
    arguments: fc.oneof(
      fc.record({ filePath: fc.oneof(fc.string(), fc.constant('a.txt'), fc.jsonValue()) }),
      fc.record({ directory: fc.oneof(fc.string(), fc.integer()), recursive: fc.jsonValue() }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  }),
});
/** Anything else: invalid JSON, wrong types, batches, responses, notifications. */
const junk = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.record({ jsonrpc: fc.jsonValue(), id: fc.jsonValue(), method: fc.jsonValue() }).map((v) => JSON.stringify(v)),
  fc.array(validRequest, { maxLength: 3 }).map((v) => JSON.stringify(v)),
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.integer(), result: fc.jsonValue() }).map((v) => JSON.stringify(v)),
  fc.record({ jsonrpc: fc.constant('2.0'), method: methods, params: fc.jsonValue() }).map((v) => JSON.stringify(v)),
  fc.constantFrom('{"jsonrpc":"2.0","id":1e400,"method":"ping"}', '{"id":', '\u0000', '"\\ud800"', 'null', '[]'),
  deep,
  deepObject,
);

type Frame = { kind: 'request'; id: unknown; text: string } | { kind: 'junk'; text: string };
const frame: fc.Arbitrary<Frame> = fc.oneof(
  validRequest.map((r) => ({ kind: 'request' as const, id: r.id, text: JSON.stringify(r) })),
  toolCall.map((r) => ({ kind: 'request' as const, id: r.id, text: JSON.stringify(r) })),
  junk.map((text) => ({ kind: 'junk' as const, text })),
);

describe('protocol fuzzing', () => {
  let issuer: LocalIssuer;
  let server: TestServer;
  let token: string;

  before(async () => {
    issuer = await startLocalIssuer();
    const root = mkdtempSync(path.join(tmpdir(), 'sec-fuzz-'));
    writeFileSync(path.join(root, 'a.txt'), 'fuzz');
    server = await startTestServer(issuer, root, { RATE_LIMIT_BURST: '100000', LOG_LEVEL: 'silent' });
    token = await issuer.sign();
  });
  after(async () => {
    await server.close();
    await issuer.close();
  });

  async function open(init: boolean): Promise<WebSocket> {
    const ws = await connect(server.wsUrl, { token });
    assert.ok(!isRefused(ws));
    if (init) await initialize(ws);
    return ws;
  }

  async function exercise(ws: WebSocket, f: Frame): Promise<void> {
    if (ws.readyState !== WebSocket.OPEN) throw new Error('the server closed the connection');
    if (f.kind === 'request') {
      const reply = replyWithId(ws, f.id);
      ws.send(f.text);
      const msg = await reply;
      assert.ok('result' in msg || 'error' in msg);
    } else {
      ws.send(f.text);
    }
    await probe(ws);
  }

  it(`${RUNS} frames on an initialized connection; RSS stays bounded`, async () => {
    const ws = await open(true);
    const rss0 = process.memoryUsage().rss;
    await fc.assert(
      fc.asyncProperty(frame, (f) => exercise(ws, f)),
      { numRuns: RUNS },
    );
    const grown = process.memoryUsage().rss - rss0;
    assert.ok(grown < 200 * 1024 * 1024, `RSS grew by ${grown} bytes`);
    ws.close();
  });

  it('frames before initialize are answered or ignored, never crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 5 }), async (frames) => {
        const ws = await open(false);
        for (const f of frames) await exercise(ws, f);
        ws.close();
      }),
      { numRuns: 30 },
    );
  });

  it('binary frames close with 1003 and the server keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 512 }), async (bytes) => {
        const ws = await open(true);
        const code = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
        ws.send(bytes, { binary: true });
        assert.equal(await code, 1003);
      }),
      { numRuns: 20 },
    );
    const ws = await open(true);
    await probe(ws);
    ws.close();
  });
});
