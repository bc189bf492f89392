// `server/discover` answered from the shared dispatch's memory (mcp/learned-discover.ts) is what
// the SDK answers: the same probes, each on a connection of its own as a client opens with it,
// sent to a server with the shared dispatch and to one without it (every probe through an SDK
// server of the connection's own), get byte-identical frames. The corpus has the probes the
// memory answers (the same envelope again, a string id, the envelope's keys reordered) and those
// it must leave to the SDK (the first of each envelope, a refused envelope, other params, a
// 2025 revision, no envelope, other top-level members).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { learnedDiscoverStats } from '../../../mcp-server/src/mcp/learned-discover.ts';
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

describe('server/discover from memory answers as the SDK does', { timeout: 60_000 }, () => {
  let issuer: LocalIssuer;
  let root: string;
  let shared: TestServer;
  let sdk: TestServer;
  let token: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'learned-discover-'));
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

  for (const c of CORPUS) {
    it(`same bytes: ${c.label}`, async () => {
      const before = learnedDiscoverStats().answered;
      const ours = await firstAnswer(shared, token, c.frame);
      const answered = learnedDiscoverStats().answered - before;
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
      const before = learnedDiscoverStats().answered;
      ws.send(JSON.stringify(probe(1)));
      ws.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } },
        }),
      );
      while (answers.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(learnedDiscoverStats().answered - before, 1);
      assert.equal(
        (JSON.parse(answers[1]!) as { result: { protocolVersion: string } }).result.protocolVersion,
        '2025-11-25',
      );
    } finally {
      ws.close();
    }
  });
});
