// A WebSocket connection served by the shared dispatches (mcp/connection-entry.ts: the 2026-07-28
// one, and one per 2025-era version a connection negotiated by `initialize`) answers exactly as
// one with a server of its own: the same message sequences, sent to a server
// with the shared path and to one without it (`sharedDispatch: false`, every connection gets its
// own McpServer at its first message), get byte-identical transcripts. The sequences walk every
// phase of the SDK's entry: a probe followed by `initialize` or by calls, a pinned connection
// that then sends what only its own server answers (another method, `initialize`, a request
// without or with a refused envelope, a notification), refusals at the opening, and 2025-era
// connections that initialize (several versions) and then call, or send what only their own
// server answers. A connection that only calls tools holds no SDK entry; a cancelled request at
// the dispatch gets no answer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { connectionEntryStats } from '../../../mcp-server/src/mcp/connection-entry.ts';
import { directCallStats } from '../../../mcp-server/src/mcp/direct-tool-calls.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';
import { holdThreadpool } from './helpers/threadpool-hold.ts';
import { connect, isRefused } from './helpers/ws-client.ts';

const E = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};
type Frame = Record<string, unknown>;

let nextId = 1;
const req = (method: string, params?: Frame): Frame => ({
  jsonrpc: '2.0',
  id: nextId++,
  method,
  ...(params === undefined ? {} : { params }),
});
const note = (method: string, params?: Frame): Frame => ({
  jsonrpc: '2.0',
  method,
  ...(params === undefined ? {} : { params }),
});
/** `meta` null: no envelope. */
const call = (meta: unknown = E, filePath = 'a.txt') =>
  req('tools/call', { name: 'read-file', arguments: { filePath }, ...(meta === null ? {} : { _meta: meta }) });
const discover = (meta: unknown = E) => req('server/discover', meta === null ? {} : { _meta: meta });
const list = (meta: unknown = E) => req('tools/list', meta === null ? {} : { _meta: meta });
const initialize = (protocolVersion = '2025-11-25') =>
  req('initialize', { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } });

interface Sequence {
  readonly label: string;
  readonly frames: () => Frame[];
  /** The shared dispatch serves it all: no SDK entry is made. */
  readonly sharedOnly?: boolean;
  /** Something the transcript must show (so the sequence is known to reach what it is about). */
  readonly shows?: RegExp;
}

const SEQUENCES: readonly Sequence[] = [
  { label: 'calls only', frames: () => [list(), call(), call(), call(E, 'none.txt')], sharedOnly: true },
  { label: 'probe, then calls', frames: () => [discover(), discover(), list(), call()], sharedOnly: true },
  {
    label: 'pinned, a cancel of an answered request',
    frames: () => [call(), note('notifications/cancelled', { requestId: 1 }), call()],
    sharedOnly: true,
  },
  {
    label: 'probe, then initialize (2025-11-25)',
    frames: () => [discover(), initialize(), note('notifications/initialized'), list(null), call(null)],
    sharedOnly: true,
  },
  { label: 'pinned, then initialize (refused)', frames: () => [call(), initialize(), call()] },
  { label: 'pinned, then ping', frames: () => [list(), req('ping', { _meta: E }), call()] },
  { label: 'pinned, then an unknown method', frames: () => [call(), req('resources/list', { _meta: E }), call()] },
  { label: 'pinned, then no envelope', frames: () => [call(), list(null), call(null), call()] },
  {
    label: 'pinned, then a refused envelope',
    frames: () => [call(), call({ ...E, 'io.modelcontextprotocol/logLevel': null }), call()],
  },
  {
    label: 'pinned, then a 2025 revision in the envelope',
    frames: () => [call(), call({ ...E, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' }), call()],
  },
  {
    label: 'probe, then a notification with the envelope, then calls',
    frames: () => [discover(), note('notifications/progress', { progressToken: 'x', progress: 1, _meta: E }), call()],
  },
  {
    label: 'probe, then a notification with the envelope, then initialize (still open: 2025-11-25)',
    frames: () => [
      discover(),
      note('notifications/progress', { progressToken: 'x', progress: 1, _meta: E }),
      initialize(),
    ],
  },
  {
    label: 'probe, then a notification without one (2025-11-25)',
    frames: () => [discover(), note('notifications/initialized'), initialize(), list(null)],
  },
  {
    label: 'a refused envelope first',
    frames: () => [call({ ...E, 'io.modelcontextprotocol/clientInfo': 5 }), call(), list()],
  },
  {
    label: 'an unsupported revision first',
    frames: () => [call({ ...E, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }), call()],
  },
  { label: 'discover without an envelope first', frames: () => [discover(null), initialize(), list(null)] },
  {
    label: 'initialize first, then calls and pings',
    frames: () => [initialize(), note('notifications/initialized'), list(null), call(null), req('ping'), call(null)],
    sharedOnly: true,
  },
  {
    label: 'initialize 2025-06-18, then calls (its own shared server)',
    frames: () => [initialize('2025-06-18'), note('notifications/initialized'), list(null), call(null)],
    sharedOnly: true,
  },
  {
    label: 'initialize, then a call that carries the envelope, one missing a file, an invalid one',
    frames: () => [initialize(), call(), call(null, 'none.txt'), req('tools/call', { name: 'read-file' })],
    sharedOnly: true,
  },
  {
    label: 'initialize, then a listing that reports progress, then a call',
    frames: () => [
      initialize(),
      req('tools/call', { name: 'list-files', arguments: { directory: '.' }, _meta: { progressToken: 'p1' } }),
      call(null),
    ],
    sharedOnly: true,
    shows: /"method":"notifications\/progress","params":\{"progressToken":"p1"/,
  },
  {
    label: 'initialize, then a cancel of an answered request, then a call',
    frames: () => [initialize(), call(null), note('notifications/cancelled', { requestId: 2 }), call(null)],
    sharedOnly: true,
  },
  {
    label: 'initialize of an unsupported version',
    frames: () => [initialize('2099-01-01'), note('notifications/initialized'), call(null)],
  },
  {
    label: 'initialize without capabilities (refused), then a call',
    frames: () => [req('initialize', { protocolVersion: '2025-11-25' }), call(null)],
  },
  {
    label: 'initialized, then another method, then calls',
    frames: () => [initialize(), note('notifications/initialized'), req('resources/list'), list(null), call(null)],
  },
  {
    label: 'initialize twice',
    frames: () => [initialize(), call(null), initialize('2025-06-18'), list(null), call(null)],
  },
  {
    label: 'initialize, then another notification, then a call',
    frames: () => [initialize(), note('notifications/roots/list_changed'), call(null)],
  },
  {
    label: 'initialize, then server/discover',
    frames: () => [initialize(), note('notifications/initialized'), discover(), call(null)],
  },
];

/** Sends `frames` on an open socket, each after the previous one's answer. */
async function transcriptOf(ws: WebSocket, frames: readonly Frame[]): Promise<string[]> {
  const seen: string[] = [];
  for (const frame of frames) {
    const answered = new Promise<void>((resolve) => {
      const onMessage = (data: WebSocket.RawData) => {
        seen.push(data.toString());
        if ((JSON.parse(data.toString()) as Frame).id !== frame.id) return;
        ws.off('message', onMessage);
        resolve();
      };
      ws.on('message', onMessage);
    });
    ws.send(JSON.stringify(frame));
    await answered;
  }
  return seen;
}

/** Frames two servers may differ in: none of these sequences lists with a cursor or hits a limit. */
async function transcript(server: TestServer, token: string, frames: readonly Frame[]): Promise<string[]> {
  const ws = await connect(server.wsUrl, { token });
  assert.ok(!isRefused(ws));
  const seen: string[] = [];
  const waiting = new Map<unknown, () => void>();
  ws.on('message', (data: WebSocket.RawData) => {
    const text = data.toString();
    seen.push(text);
    const id = (JSON.parse(text) as { id?: unknown }).id;
    waiting.get(id)?.();
    waiting.delete(id);
  });
  try {
    for (const frame of frames) {
      const answered = 'id' in frame ? new Promise<void>((resolve) => waiting.set(frame.id, resolve)) : undefined;
      ws.send(JSON.stringify(frame));
      await answered;
    }
    // A notification's effect shows in the next answer; anything sent after the last one is caught by this.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return seen;
  } finally {
    ws.close();
  }
}

describe('a WebSocket connection served by the shared dispatches', { timeout: 60_000 }, () => {
  let issuer: LocalIssuer;
  let root: string;
  let shared: TestServer;
  let own: TestServer;
  let token: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'connection-entry-'));
    writeFileSync(path.join(root, 'a.txt'), 'héllo');
    writeFileSync(path.join(root, 'b.txt'), 'other file');
    issuer = await startLocalIssuer();
    shared = await startTestServer(issuer, root);
    own = await startTestServer(issuer, root, {}, { sharedDispatch: false });
    token = await issuer.sign({}, { expiresIn: '1h' });
  });
  after(async () => {
    await Promise.all([shared.close(), own.close()]);
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  });

  for (const sequence of SEQUENCES) {
    it(`${sequence.label}: the same transcript`, async () => {
      nextId = 1;
      const frames = sequence.frames();
      const before = connectionEntryStats();
      const ours = await transcript(shared, token, frames);
      const after = connectionEntryStats();
      const reference = await transcript(own, token, frames);
      assert.deepEqual(ours, reference);
      assert.ok(ours.length > 0);
      if (sequence.shows) assert.match(ours.join('\n'), sequence.shows);
      if (sequence.sharedOnly) {
        assert.equal(after.handedOver, before.handedOver, 'an SDK entry was made');
        assert.ok(after.dispatched > before.dispatched);
      } else assert.equal(after.handedOver - before.handedOver, 1, `no SDK entry was made: ${ours.join('\n')}`);
    });
  }

  for (const era of ['2026-07-28', '2025-11-25'] as const) {
    it(`${era}: connections sharing the dispatch get their own answers, under their own tokens, with the same ids`, async () => {
      const listOnly = await issuer.sign({ azp: 'lister', scope: 'file.list' }, { expiresIn: '1h' });
      const sockets = await Promise.all([token, listOnly, token].map((t) => connect(shared.wsUrl, { token: t })));
      const before = connectionEntryStats();
      const directBefore = directCallStats().answered;
      try {
        const answers = await Promise.all(
          sockets.map(async (ws, i) => {
            assert.ok(!isRefused(ws));
            const meta = era === '2026-07-28' ? { _meta: E } : {};
            if (era === '2025-11-25') await transcriptOf(ws, [initialize()]);
            const frames = Array.from({ length: 20 }, (_, n) => ({
              jsonrpc: '2.0',
              id: n,
              method: 'tools/call',
              params: { name: 'read-file', arguments: { filePath: i === 2 ? 'b.txt' : 'a.txt' }, ...meta },
            }));
            const got: Frame[] = [];
            const all = new Promise<void>((resolve) =>
              ws.on('message', (data) => {
                got.push(JSON.parse(data.toString()) as Frame);
                if (got.length === frames.length) resolve();
              }),
            );
            for (const f of frames) ws.send(JSON.stringify(f));
            await all;
            return got;
          }),
        );
        const texts = answers.map((got) => new Set(got.map((f) => JSON.stringify((f.result as Frame).content))));
        assert.deepEqual(
          answers.map((got) => got.map((f) => f.id as number).sort((a, b) => a - b)),
          [0, 1, 2].map(() => Array.from({ length: 20 }, (_, n) => n)),
        );
        assert.equal(texts[0]!.size, 1);
        assert.match([...texts[0]!][0]!, /héllo/);
        assert.match([...texts[1]!][0]!, /needs scope file\.read/);
        assert.match([...texts[2]!][0]!, /other file/);
        assert.equal(texts[1]!.size, 1);
        assert.equal(texts[2]!.size, 1);
        assert.equal(connectionEntryStats().handedOver, before.handedOver, 'a connection got a server of its own');
        // The shared servers learn the call's shape from the first ones and answer the rest directly.
        assert.ok(directCallStats().answered - directBefore >= 40, 'the direct path answered too few calls');
      } finally {
        for (const ws of sockets) if (!isRefused(ws)) ws.close();
      }
    });
  }

  it('a cancelled request at the dispatch gets no answer and the connection goes on', async () => {
    const ws = await connect(shared.wsUrl, { token });
    assert.ok(!isRefused(ws));
    try {
      const answers: unknown[] = [];
      ws.on('message', (data) => answers.push(JSON.parse(data.toString()).id));
      const before = connectionEntryStats();
      const hold = holdThreadpool();
      try {
        // Read at an offset: not warm, so the read waits on the threadpool for the hold.
        ws.send(
          JSON.stringify(
            req('tools/call', { name: 'read-file', arguments: { filePath: 'a.txt', offset: 1 }, _meta: E }),
          ),
        );
        ws.send(JSON.stringify(note('notifications/cancelled', { requestId: nextId - 1, reason: 'test' })));
      } finally {
        await hold.release();
      }
      const last = call();
      const answered = new Promise<void>((resolve) =>
        ws.on('message', (data) => JSON.parse(data.toString()).id === last.id && resolve()),
      );
      ws.send(JSON.stringify(last));
      await answered;
      assert.deepEqual(answers, [last.id]);
      assert.equal(connectionEntryStats().handedOver, before.handedOver);
    } finally {
      ws.close();
    }
  });
});
