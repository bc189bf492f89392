// A connection's opening request answered from the shared dispatch's memory
// (mcp/learned-answers.ts) is what the SDK answers: the same `server/discover` probes and
// `initialize` requests, each on a connection of its own as a client opens with it, sent to a
// server with the shared dispatch and to one without it (every request through an SDK server of
// the connection's own), get byte-identical frames. The corpora have the requests the memory
// answers (the same params again, a string id, the envelope's keys reordered) and those it must
// leave to the SDK (the first of each, a refused envelope or version, invalid or other params,
// `_meta`, other top-level members); a connection opened from memory goes on as the SDK's does.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { learnedAnswerStats } from '../../../mcp-server/src/mcp/learned-answers.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';
import { connect, isRefused } from './helpers/ws-client.ts';

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};
type Frame = Record<string, unknown>;
const probe = (id: number | string, meta: unknown = ENVELOPE, extra: Frame = {}): Frame => ({
  jsonrpc: '2.0',
  id,
  method: 'server/discover',
  params: { _meta: meta, ...extra },
});

/** Each probe with whether the memory may answer it (the shared server answered its envelope before). */
const CORPUS: readonly { label: string; frame: Frame; remembered: boolean }[] = [
  { label: 'first probe of its envelope', frame: probe(1), remembered: false },
  { label: 'the same envelope again', frame: probe(2), remembered: true },
  { label: 'string id', frame: probe('s-1'), remembered: true },
  {
    label: 'envelope keys reordered (the same envelope)',
    frame: probe(3, Object.fromEntries(Object.entries(ENVELOPE).reverse())),
    remembered: true,
  },
  {
    label: 'another client version (first)',
    frame: probe(4, { ...ENVELOPE, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '2' } }),
    remembered: false,
  },
  {
    label: 'another client version (now known)',
    frame: probe(5, { ...ENVELOPE, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '2' } }),
    remembered: true,
  },
  {
    label: 'a log level (first)',
    frame: probe(6, { ...ENVELOPE, 'io.modelcontextprotocol/logLevel': 'info' }),
    remembered: false,
  },
  {
    label: 'an invalid log level (refused, never remembered)',
    frame: probe(7, { ...ENVELOPE, 'io.modelcontextprotocol/logLevel': null }),
    remembered: false,
  },
  {
    label: 'the invalid log level again (still the SDK)',
    frame: probe(8, { ...ENVELOPE, 'io.modelcontextprotocol/logLevel': null }),
    remembered: false,
  },
  {
    label: 'an unsupported revision',
    frame: probe(9, { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }),
    remembered: false,
  },
  {
    label: 'a 2025 revision in the envelope',
    frame: probe(10, { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' }),
    remembered: false,
  },
  { label: 'another params member', frame: probe(11, ENVELOPE, { cursor: 'x' }), remembered: false },
  { label: 'another _meta member', frame: probe(12, { ...ENVELOPE, progressToken: 'p' }), remembered: false },
  {
    label: 'no envelope',
    frame: { jsonrpc: '2.0', id: 13, method: 'server/discover', params: {} },
    remembered: false,
  },
  { label: 'another top-level member', frame: { ...probe(14), extra: true }, remembered: false },
];

const initialize = (id: number | string, params: Frame = {}, extra: Frame = {}): Frame => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' }, ...params },
  ...extra,
});

/** Each `initialize` with whether the memory may answer it (the version's shared server answered its params before). */
const OPENINGS: readonly { label: string; frame: Frame; remembered: boolean }[] = [
  { label: 'first initialize of its params', frame: initialize(1), remembered: false },
  { label: 'the same params again', frame: initialize(2), remembered: true },
  { label: 'string id', frame: initialize('s-1'), remembered: true },
  {
    label: 'another client (first)',
    frame: initialize(3, { clientInfo: { name: 'raw', version: '2' } }),
    remembered: false,
  },
  {
    label: 'another client (now known)',
    frame: initialize(4, { clientInfo: { name: 'raw', version: '2' } }),
    remembered: true,
  },
  { label: 'an older version (first)', frame: initialize(5, { protocolVersion: '2025-06-18' }), remembered: false },
  { label: 'the older version again', frame: initialize(6, { protocolVersion: '2025-06-18' }), remembered: true },
  { label: 'an unknown version', frame: initialize(7, { protocolVersion: '1999-01-01' }), remembered: false },
  { label: 'the unknown version again', frame: initialize(8, { protocolVersion: '1999-01-01' }), remembered: false },
  { label: 'no clientInfo (invalid)', frame: initialize(9, { clientInfo: undefined }), remembered: false },
  {
    label: 'no clientInfo again (never remembered)',
    frame: initialize(10, { clientInfo: undefined }),
    remembered: false,
  },
  { label: 'params with _meta', frame: initialize(11, { _meta: { progressToken: 'p' } }), remembered: false },
  { label: 'another top-level member', frame: initialize(12, {}, { extra: true }), remembered: false },
];

/** Opens a connection, sends `frame` as its first message, and resolves with the raw text answering it. */
async function firstAnswer(server: TestServer, token: string, frame: Frame): Promise<string> {
  const ws = (await connect(server.wsUrl, { token })) as WebSocket;
  assert.ok(!isRefused(ws));
  try {
    return await new Promise<string>((resolve) => {
      ws.on('message', (data: WebSocket.RawData) => {
        const text = data.toString();
        if ((JSON.parse(text) as { id?: unknown }).id === frame.id) resolve(text);
      });
      ws.send(JSON.stringify(frame));
    });
  } finally {
    ws.close();
  }
}

describe('opening requests from memory answer as the SDK does', { timeout: 60_000 }, () => {
  let issuer: LocalIssuer;
  let root: string;
  let shared: TestServer;
  let sdk: TestServer;
  let token: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'learned-answers-'));
    writeFileSync(path.join(root, 'a.txt'), 'a');
    issuer = await startLocalIssuer();
    shared = await startTestServer(issuer, root);
    sdk = await startTestServer(issuer, root, {}, { directToolCalls: false, sharedDispatch: false });
    token = await issuer.sign({}, { expiresIn: '1h' });
  });
  after(async () => {
    await Promise.all([shared.close(), sdk.close()]);
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  });

  for (const c of [...CORPUS, ...OPENINGS]) {
    it(`same bytes: ${c.frame.method} ${c.label}`, async () => {
      const before = learnedAnswerStats().answered;
      const ours = await firstAnswer(shared, token, c.frame);
      const answered = learnedAnswerStats().answered - before;
      assert.equal(ours, await firstAnswer(sdk, token, c.frame));
      // Proof the comparison is not the SDK against itself, and that the memory keeps to its cases.
      assert.equal(answered, c.remembered ? 1 : 0, 'answered from memory');
    });
  }

  it('a probe answered from memory leaves the connection open to either era, as the SDK does', async () => {
    const ws = (await connect(shared.wsUrl, { token })) as WebSocket;
    try {
      const answers: string[] = [];
      ws.on('message', (data: WebSocket.RawData) => answers.push(data.toString()));
      const before = learnedAnswerStats().answered;
      ws.send(JSON.stringify(probe(1)));
      ws.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 'after-probe', version: '0' },
          },
        }),
      );
      while (answers.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(learnedAnswerStats().answered - before, 1);
      assert.equal(
        (JSON.parse(answers[1]!) as { result: { protocolVersion: string } }).result.protocolVersion,
        '2025-11-25',
      );
    } finally {
      ws.close();
    }
  });

  it('a connection opened from memory goes on as one opened by the SDK', async () => {
    const sequence = async (server: TestServer): Promise<string[]> => {
      const ws = (await connect(server.wsUrl, { token })) as WebSocket;
      try {
        const answers: string[] = [];
        ws.on('message', (data: WebSocket.RawData) => answers.push(data.toString()));
        ws.send(JSON.stringify(initialize(1)));
        ws.send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
        ws.send(
          JSON.stringify({
            jsonrpc: '2.0',
            id: 2,
            method: 'tools/call',
            params: { name: 'read-file', arguments: { filePath: 'a.txt' } },
          }),
        );
        ws.send('{"jsonrpc":"2.0","id":3,"method":"ping"}');
        while (answers.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
        return answers;
      } finally {
        ws.close();
      }
    };
    const before = learnedAnswerStats().answered;
    const ours = await sequence(shared);
    assert.equal(learnedAnswerStats().answered - before, 1, 'the initialize came from memory');
    assert.deepEqual(ours, await sequence(sdk));
  });
});
