// Streamable HTTP on /mcp against the real server and a local issuer: session lifecycle (idle
// reaping, DELETE, binding to client+subject), DNS rebinding/Origin refusals before any token
// check, body limit, per-request authorization (scope changes, expiry, no query tokens), the GET
// stream's end at token exp, and how malformed bodies and batches are refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { parseBearerChallenge } from 'mcp-ws-common';
import { waitForLog } from '../../support/wait.ts';
import { call, INITIALIZE, mcpRequest, openSession, rpc } from './helpers/http-client.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';

const IDLE_MS = 300;
const MAX_BYTES = 4096;

describe('Streamable HTTP transport', () => {
  let kc: LocalIssuer;
  let server: TestServer;
  let tight: TestServer;
  let root: string;
  let full: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'shttp-'));
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    kc = await startLocalIssuer();
    full = await kc.sign();
    [server, tight] = await Promise.all([
      startTestServer(kc, root, { ALLOWED_ORIGINS: 'https://app.example' }),
      startTestServer(kc, root, { SESSION_IDLE_TIMEOUT_MS: String(IDLE_MS), MAX_MESSAGE_BYTES: String(MAX_BYTES) }),
    ]);
  });
  after(async () => {
    await Promise.all([server.close(), tight.close()]);
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves tools in a session opened by initialize', async () => {
    const session = await openSession(server.httpUrl, full);
    const list = await call(server.httpUrl, full, session, 1, 'tools/list');
    assert.equal(list.status, 200);
    assert.deepEqual(list.reply?.result.tools.map((t: { name: string }) => t.name).sort(), ['list-files', 'read-file']);
    const read = await call(server.httpUrl, full, session, 2, 'tools/call', {
      name: 'read-file',
      arguments: { filePath: 'a.txt' },
    });
    assert.equal(read.reply?.result.isError, undefined);
    assert.match(JSON.stringify(read.reply?.result.content), /hello/);
  });

  it('closes a session idle for SESSION_IDLE_TIMEOUT_MS; its id then gets 404', async () => {
    const opened = Date.now();
    const session = await openSession(tight.httpUrl, full);
    // Activity re-arms the timer: a client that pings every IDLE_MS / 4 keeps its session for two
    // idle periods (without re-arming, a ping after IDLE_MS would get 404). The pauses are the
    // client's pace, the time under test, not a wait on the server.
    let pings = 0;
    while (Date.now() - opened < IDLE_MS * 2) {
      await delay(IDLE_MS / 4);
      pings++;
      assert.equal((await call(tight.httpUrl, full, session, pings, 'ping')).status, 200, `ping ${pings}`);
    }
    const closed = await waitForLog(
      tight.logs,
      (l) => l.event === 'connection.closed' && l.session === session,
      IDLE_MS * 10,
      'the idle close',
    );
    assert.equal(closed.reason, 'idle');
    assert.equal(closed.requests, pings + 2); // initialize, notifications/initialized, the pings
    const late = await call(tight.httpUrl, full, session, pings + 1, 'ping');
    assert.equal(late.status, 404);
    assert.equal(late.messages[0]?.error.code, -32001);
  });

  describe('Host and Origin are refused with 403 before any token check', () => {
    it('refuses a Host outside ALLOWED_HOSTS (DNS rebinding), with or without a token', async () => {
      for (const token of [undefined, full]) {
        const res = await mcpRequest(server.httpUrl, {
          ...(token ? { token } : {}),
          headers: { host: `attacker.example:${server.port}` },
          body: INITIALIZE,
        });
        assert.equal(res.status, 403);
        assert.equal(res.headers['www-authenticate'], undefined);
        assert.equal(JSON.parse(res.text).error, 'forbidden');
      }
      assert.ok(server.logs.some((l) => l.event === 'access.denied' && l.reason === 'host_forbidden'));
    });
    it('refuses an Origin outside ALLOWED_ORIGINS, with or without a token; allows a listed one', async () => {
      for (const token of [undefined, full]) {
        const res = await mcpRequest(server.httpUrl, {
          ...(token ? { token } : {}),
          headers: { origin: 'https://evil.example' },
          body: INITIALIZE,
        });
        assert.equal(res.status, 403);
        assert.equal(res.headers['www-authenticate'], undefined);
        assert.equal(JSON.parse(res.text).error_description, 'origin not allowed (ALLOWED_ORIGINS)');
      }
      const listed = await mcpRequest(server.httpUrl, {
        token: full,
        headers: { origin: 'https://app.example' },
        body: INITIALIZE,
      });
      assert.equal(listed.status, 200);
      // Without a token a listed origin gets as far as the token check.
      const anonymous = await mcpRequest(server.httpUrl, {
        headers: { origin: 'https://app.example' },
        body: INITIALIZE,
      });
      assert.equal(anonymous.status, 401);
    });
  });

  it('answers a body over MAX_MESSAGE_BYTES with 413 (declared or chunked) and keeps serving', async () => {
    const session = await openSession(tight.httpUrl, full);
    const big = JSON.stringify(
      rpc(1, 'tools/call', { name: 'read-file', arguments: { filePath: 'x'.repeat(MAX_BYTES) } }),
    );
    for (const chunked of [false, true]) {
      const res = await mcpRequest(tight.httpUrl, { token: full, session, body: big, chunked });
      assert.equal(res.status, 413, `chunked=${chunked}`);
      assert.equal(res.messages[0]?.error.code, -32600);
    }
    assert.equal((await call(tight.httpUrl, full, session, 2, 'ping')).status, 200);
  });

  it("applies each request's own token: fewer scopes shrink tools/list and refuse read-file", async () => {
    const session = await openSession(server.httpUrl, full);
    const lister = await kc.sign({ scope: 'file.list' });
    const list = await call(server.httpUrl, lister, session, 1, 'tools/list');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.reply?.result.tools.map((t: { name: string }) => t.name),
      ['list-files'],
    );
    const read = await call(server.httpUrl, lister, session, 2, 'tools/call', {
      name: 'read-file',
      arguments: { filePath: 'a.txt' },
    });
    // Step-up (SEP-2350): 403 naming only the scope this call needs, before anything runs.
    assert.equal(read.status, 403);
    const challenge = parseBearerChallenge(read.headers['www-authenticate']);
    assert.equal(challenge?.error, 'insufficient_scope');
    assert.equal(challenge?.scope, 'file.read');
    assert.match(JSON.parse(read.text).error_description, /read-file needs scope file\.read/);
    assert.ok(
      server.logs.some(
        (l) => l.event === 'access.denied' && l.reason === 'insufficient_scope' && l.tool === 'read-file',
      ),
    );
    const listed = await call(server.httpUrl, lister, session, 3, 'tools/call', {
      name: 'list-files',
      arguments: { directory: '.' },
    });
    assert.equal(listed.reply?.result.isError, undefined);
    // The full token again: read-file is back, in the same session.
    const again = await call(server.httpUrl, full, session, 4, 'tools/call', {
      name: 'read-file',
      arguments: { filePath: 'a.txt' },
    });
    assert.equal(again.reply?.result.isError, undefined);
  });

  it('refuses an expired token on a later request with 401 invalid_token; the session survives', async () => {
    const session = await openSession(server.httpUrl, full);
    const expired = await kc.sign({ exp: Math.floor(Date.now() / 1000) - 5 });
    const res = await call(server.httpUrl, expired, session, 1, 'ping');
    assert.equal(res.status, 401);
    const challenge = parseBearerChallenge(res.headers['www-authenticate']);
    assert.equal(challenge?.error, 'invalid_token');
    assert.equal(
      challenge?.resource_metadata,
      `http://localhost:${server.port}/.well-known/oauth-protected-resource/mcp`,
    );
    assert.equal((await call(server.httpUrl, full, session, 2, 'ping')).status, 200);
  });

  it("answers a session id with another client's or subject's token with 404, like an unknown id", async () => {
    const session = await openSession(server.httpUrl, full);
    const otherClient = await kc.sign({ azp: 'other-client' });
    const otherSubject = await kc.sign({ sub: 'user-2' });
    for (const token of [otherClient, otherSubject]) {
      const res = await call(server.httpUrl, token, session, 1, 'ping');
      assert.equal(res.status, 404);
      assert.deepEqual(res.messages[0]?.error, { code: -32001, message: 'Session not found' });
    }
    const unknown = await call(server.httpUrl, full, '00000000-0000-4000-8000-000000000000', 1, 'ping');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.text, (await call(server.httpUrl, otherClient, session, 1, 'ping')).text);
    assert.ok(server.logs.some((l) => l.reason === 'session_binding' && l.session === session));
    assert.equal((await call(server.httpUrl, full, session, 2, 'ping')).status, 200);
  });

  it('ends the session on DELETE; later requests with its id get 404', async () => {
    const session = await openSession(server.httpUrl, full);
    const other = await kc.sign({ azp: 'other-client' });
    assert.equal((await mcpRequest(server.httpUrl, { method: 'DELETE', token: other, session })).status, 404);
    const del = await mcpRequest(server.httpUrl, { method: 'DELETE', token: full, session });
    assert.equal(del.status, 200);
    assert.equal((await call(server.httpUrl, full, session, 1, 'ping')).status, 404);
    assert.equal((await mcpRequest(server.httpUrl, { method: 'DELETE', token: full, session })).status, 404);
    const closed = server.logs.find((l) => l.event === 'connection.closed' && l.session === session);
    assert.equal(closed?.reason, 'deleted');
  });

  it('closes the standalone GET stream when the token that opened it expires', async () => {
    const session = await openSession(server.httpUrl, full);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const shortLived = await kc.sign({ exp });
    const t0 = Date.now();
    const stream = await mcpRequest(server.httpUrl, { method: 'GET', token: shortLived, session });
    const ended = Date.now();
    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
    assert.ok(ended >= exp * 1000 - 50, `stream ended ${exp * 1000 - ended} ms before exp`);
    assert.ok(ended - t0 < 4000, 'stream outlived its token');
    // Only the stream ended, not the session.
    assert.equal((await call(server.httpUrl, full, session, 1, 'ping')).status, 200);
  });

  it('refuses a token in the query string with 400 invalid_request, even with a valid header', async () => {
    for (const query of ['access_token', 'token']) {
      const res = await mcpRequest(`${server.httpUrl}?${query}=${full}`, { token: full, body: INITIALIZE });
      assert.equal(res.status, 400);
      assert.equal(parseBearerChallenge(res.headers['www-authenticate'])?.error, 'invalid_request');
      assert.equal(JSON.parse(res.text).error, 'invalid_request');
    }
    assert.ok(!JSON.stringify(server.logs).includes(full.split('.')[2] ?? '-'));
  });

  describe('malformed bodies and batches', () => {
    it('answers a body that is not JSON with 400 -32700 (not JSON-RPC: -32600) and keeps the session', async () => {
      const session = await openSession(server.httpUrl, full);
      const res = await mcpRequest(server.httpUrl, { token: full, session, body: '{"jsonrpc": "2.0", "id": 1,' });
      assert.equal(res.status, 400);
      assert.deepEqual(res.messages[0], {
        jsonrpc: '2.0',
        error: { code: -32700, message: 'Parse error: the body is not JSON' },
        id: null,
      });
      // JSON that is not a JSON-RPC message is an invalid request (JSON-RPC 2.0 §5.1), as on the WebSocket.
      const notRpc = await mcpRequest(server.httpUrl, { token: full, session, body: { hello: 'world' } });
      assert.equal(notRpc.status, 400);
      assert.equal(notRpc.messages[0]?.error.code, -32600);
      assert.equal((await call(server.httpUrl, full, session, 2, 'ping')).status, 200);
    });
    it('refuses a batch with 400 -32600 (MCP 2025-11-25 has no batching) and the session lives on', async () => {
      const session = await openSession(server.httpUrl, full);
      const res = await mcpRequest(server.httpUrl, {
        token: full,
        session,
        body: [rpc(1, 'ping'), rpc(2, 'tools/list')],
      });
      assert.equal(res.status, 400);
      assert.equal(res.messages[0]?.error.code, -32600);
      assert.equal((await call(server.httpUrl, full, session, 3, 'ping')).status, 200);
    });
    it('echoes the request id in error answers when the body has one', async () => {
      const noSession = await mcpRequest(server.httpUrl, { token: full, body: rpc(11, 'ping') });
      assert.equal(noSession.status, 400);
      assert.equal(noSession.messages[0]?.id, 11);
      const unknown = await call(server.httpUrl, full, '00000000-0000-4000-8000-000000000000', 12, 'ping');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.messages[0]?.id, 12);
      const session = await openSession(server.httpUrl, full);
      const again = await mcpRequest(server.httpUrl, { token: full, session, body: { ...INITIALIZE, id: 'init-2' } });
      assert.equal(again.status, 400);
      assert.deepEqual(again.messages[0]?.id, 'init-2');
      const refusals: [number, number, Parameters<typeof mcpRequest>[1]][] = [
        [406, 13, { token: full, session, body: rpc(13, 'ping'), headers: { accept: 'application/json' } }],
        [
          415,
          14,
          { token: full, session, body: JSON.stringify(rpc(14, 'ping')), headers: { 'content-type': 'text/plain' } },
        ],
        [400, 15, { token: full, session, body: { jsonrpc: '2.0', id: 15, method: 42 } }],
        [400, 16, { token: full, session, body: rpc(16, 'ping'), headers: { 'mcp-protocol-version': '1999-01-01' } }],
      ];
      for (const [status, id, request] of refusals) {
        const res = await mcpRequest(server.httpUrl, request);
        assert.equal(res.status, status, `${id}: ${res.text}`);
        assert.equal(res.messages[0]?.id, id, res.text);
      }
    });
    it('refuses a batch (or anything but initialize) without a session id with 400', async () => {
      for (const body of [[INITIALIZE, rpc(1, 'ping')], rpc(1, 'ping'), [INITIALIZE]]) {
        const res = await mcpRequest(server.httpUrl, { token: full, body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.headers['mcp-session-id'], undefined);
      }
    });
    it('refuses a second initialize in a session with 400 -32600', async () => {
      const session = await openSession(server.httpUrl, full);
      const res = await mcpRequest(server.httpUrl, { token: full, session, body: INITIALIZE });
      assert.equal(res.status, 400);
      assert.equal(res.messages[0]?.error.code, -32600);
    });
    it('answers a plain GET of /mcp with 401, or 400 without a session id (no 426)', async () => {
      assert.equal((await mcpRequest(server.httpUrl, { method: 'GET' })).status, 401);
      const res = await mcpRequest(server.httpUrl, { method: 'GET', token: full });
      assert.equal(res.status, 400);
      assert.equal(res.messages[0]?.error.code, -32000);
    });
    it('answers other methods with 405 and Allow', async () => {
      const res = await mcpRequest(server.httpUrl, { method: 'PUT', token: full, body: INITIALIZE });
      assert.equal(res.status, 405);
      assert.equal(res.headers.allow, 'GET, POST, DELETE');
    });
  });
});
