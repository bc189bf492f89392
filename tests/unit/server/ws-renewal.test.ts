// In-band token renewal on an open WebSocket (docs/transport.md, "Token renewal"): `auth/renew`
// with a fresh token of the same client and subject replaces the connection's token (scopes
// recomputed, expiry moved); anything else is refused with -32040 and the old token stays, so the
// 4401 close at its `exp` still happens.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from 'mcp-ws-common';
import type WebSocket from 'ws';
import { connectionEntryStats } from '../../../mcp-server/src/mcp/connection-entry.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';
import { closed, connect, initialize, isRefused, request } from './helpers/ws-client.ts';

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

describe('WebSocket in-band token renewal', () => {
  let kc: LocalIssuer;
  let server: TestServer;
  let root: string;
  let nextId = 1;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'ws-renew-'));
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    kc = await startLocalIssuer();
    server = await startTestServer(kc, root);
  });
  after(async () => {
    await server.close();
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** A 2025-11-25 connection whose token expires `seconds` from now. */
  async function shortLived(
    seconds: number,
    claims: Record<string, unknown> = {},
  ): Promise<{ ws: WebSocket; exp: number }> {
    const exp = Math.floor(Date.now() / 1000) + seconds;
    const ws = await connect(server.wsUrl, { token: await kc.sign({ ...claims, exp }) });
    assert.ok(!isRefused(ws));
    await initialize(ws);
    return { ws, exp };
  }

  const renew = (ws: WebSocket, token: unknown, meta?: unknown) =>
    request(ws, nextId++, 'auth/renew', { token, ...(meta === undefined ? {} : { _meta: meta }) });

  it('extends the connection past the old exp; the token never reaches the log', { timeout: 10_000 }, async () => {
    const { ws, exp } = await shortLived(2);
    const fresh = await kc.sign({}, { expiresIn: '5m' });
    const reply = await renew(ws, fresh);
    assert.ok(reply.result, JSON.stringify(reply));
    assert.ok(reply.result.expiresAt > exp + 200);
    assert.deepEqual(reply.result.scopes, ['file.read', 'file.list']);
    assert.equal(reply.result.resultType, undefined, 'a 2025-11-25 answer has no resultType');
    // Outliving the old exp can only be shown by waiting for it (plus a margin for the timer).
    let closedEarly = false;
    ws.once('close', () => {
      closedEarly = true;
    });
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 300));
    assert.equal(closedEarly, false, 'closed at the old exp');
    const list = await request(ws, nextId++, 'tools/list');
    assert.equal(list.result.tools.length, 2);
    assert.ok(server.logs.some((l) => l.event === 'auth.renewed' && l.expiresAt === reply.result.expiresAt));
    assert.ok(!JSON.stringify(server.logs).includes(fresh.split('.')[2] ?? '-'));
    ws.close();
  });

  it('still closes with 4401 at exp when the client does not renew', { timeout: 10_000 }, async () => {
    const { ws, exp } = await shortLived(2);
    const { code } = await closed(ws);
    assert.equal(code, CloseCode.TOKEN_EXPIRED);
    assert.ok(Date.now() >= exp * 1000 - 50);
  });

  it('refuses a token of another subject or client with -32040 invalid_token; the old exp still applies', {
    timeout: 10_000,
  }, async () => {
    const { ws, exp } = await shortLived(2);
    for (const claims of [{ sub: 'user-2' }, { azp: 'other-client' }]) {
      const reply = await renew(ws, await kc.sign(claims));
      assert.equal(reply.error?.code, -32040, JSON.stringify(reply));
      assert.equal(reply.error?.data?.error, 'invalid_token');
      assert.match(reply.error?.data?.error_description, /another client or subject/);
    }
    const { code } = await closed(ws);
    assert.equal(code, CloseCode.TOKEN_EXPIRED);
    assert.ok(Date.now() >= exp * 1000 - 50);
    assert.equal(server.logs.filter((l) => l.event === 'auth.refused' && l.renewal === true).length >= 2, true);
  });

  it('refuses expired, badly signed, malformed and missing tokens with -32040 invalid_token', async () => {
    const { ws } = await shortLived(60);
    const expired = await kc.sign({ exp: Math.floor(Date.now() / 1000) - 10 });
    const [head, body] = (await kc.sign()).split('.');
    const forged = `${head}.${body}.${Buffer.from('not the signature').toString('base64url')}`;
    for (const token of [expired, forged, 'not a token', 42, undefined]) {
      const reply = await renew(ws, token);
      assert.equal(reply.error?.code, -32040, `${String(token).slice(0, 20)}: ${JSON.stringify(reply)}`);
      assert.equal(reply.error?.data?.error, 'invalid_token');
    }
    assert.equal((await request(ws, nextId++, 'tools/list')).result.tools.length, 2, 'the connection serves on');
    ws.close();
  });

  it('recomputes scopes: fewer scopes shrink tools/list and calls needing the dropped scope fail', async () => {
    const { ws } = await shortLived(60);
    const reply = await renew(ws, await kc.sign({ scope: 'file.list' }));
    assert.deepEqual(reply.result.scopes, ['file.list']);
    const list = await request(ws, nextId++, 'tools/list');
    assert.deepEqual(
      list.result.tools.map((t: { name: string }) => t.name),
      ['list-files'],
    );
    const call = await request(ws, nextId++, 'tools/call', { name: 'read-file', arguments: { filePath: 'a.txt' } });
    assert.equal(call.result.isError, true);
    assert.match(JSON.stringify(call.result.content), /read-file needs scope file\.read/);
    ws.close();
  });

  it('counts renewals against the client rate limit: over it, -32040 temporarily_unavailable', async () => {
    const limited = await startTestServer(kc, root, { RATE_LIMIT_BURST: '2', RATE_LIMIT_CALLS_PER_SECOND: '0.01' });
    try {
      const ws = await connect(limited.wsUrl, { token: await kc.sign({ azp: 'renewer' }) });
      assert.ok(!isRefused(ws));
      await initialize(ws);
      const fresh = await kc.sign({ azp: 'renewer' });
      for (let i = 0; i < 2; i++) assert.ok((await renew(ws, fresh)).result);
      const refused = await renew(ws, fresh);
      assert.equal(refused.error?.code, -32040);
      assert.equal(refused.error?.data?.error, 'temporarily_unavailable');
      assert.ok(limited.logs.some((l) => l.event === 'auth.refused' && l.reason === 'rate_limited'));
      ws.close();
    } finally {
      await limited.close();
    }
  });

  it('2026-07-28 on the shared dispatch: each request is served under the token of that moment', async () => {
    const ws = await connect(server.wsUrl, { token: await kc.sign() });
    assert.ok(!isRefused(ws));
    const before = connectionEntryStats();
    const readA = () =>
      request(ws, nextId++, 'tools/call', { name: 'read-file', arguments: { filePath: 'a.txt' }, _meta: ENVELOPE });
    assert.equal((await readA()).result.isError, undefined);
    assert.deepEqual((await renew(ws, await kc.sign({ scope: 'file.list' }), ENVELOPE)).result.scopes, ['file.list']);
    const list = await request(ws, nextId++, 'tools/list', { _meta: ENVELOPE });
    assert.deepEqual(
      list.result.tools.map((t: { name: string }) => t.name),
      ['list-files'],
    );
    assert.match(JSON.stringify((await readA()).result.content), /read-file needs scope file\.read/);
    assert.ok((await renew(ws, await kc.sign(), ENVELOPE)).result);
    assert.equal((await readA()).result.isError, undefined);
    // All of it answered by the shared dispatch: the connection never got a server of its own.
    const after = connectionEntryStats();
    assert.equal(after.handedOver, before.handedOver);
    assert.ok(after.dispatched - before.dispatched >= 4);
    ws.close();
  });

  it('answers a 2026-07-28 renewal with resultType complete', async () => {
    const ws = await connect(server.wsUrl, { token: await kc.sign() });
    assert.ok(!isRefused(ws));
    const discover = await request(ws, nextId++, 'server/discover', { _meta: ENVELOPE });
    assert.ok(discover.result);
    const reply = await renew(ws, await kc.sign({}, { expiresIn: '10m' }), ENVELOPE);
    assert.equal(reply.result.resultType, 'complete');
    assert.ok(reply.result.expiresAt > Date.now() / 1000 + 500);
    ws.close();
  });
});
