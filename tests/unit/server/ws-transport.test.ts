import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloseCode, parseBearerChallenge } from 'mcp-ws-common';
import type WebSocket from 'ws';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';
import { closed, connect, initialize, isRefused, type Refused, request } from './helpers/ws-client.ts';

describe('WebSocket transport and upgrade', () => {
  let kc: LocalIssuer;
  let server: TestServer;
  let strict: TestServer;
  let root: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'wst-'));
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    kc = await startLocalIssuer();
    server = await startTestServer(kc, root);
    strict = await startTestServer(kc, root, { OAUTH_REQUIRED_SCOPES: 'file.read' });
  });
  after(async () => {
    await Promise.all([server.close(), strict.close()]);
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function open(token?: string, protocols?: string[], url = server.wsUrl): Promise<WebSocket> {
    const ws = await connect(url, { token: token ?? (await kc.sign()), ...(protocols ? { protocols } : {}) });
    assert.ok(!isRefused(ws), `refused: ${JSON.stringify(ws)}`);
    return ws;
  }
  /** The next `n` frames `ws` receives, parsed (listening from this call on). */
  function replies(ws: WebSocket, n: number): Promise<Record<string, unknown>[]> {
    const got: Record<string, unknown>[] = [];
    return new Promise((resolve) =>
      ws.on('message', (d) => {
        got.push(JSON.parse(d.toString()));
        if (got.length === n) resolve(got);
      }),
    );
  }
  /** A read-file call of a.txt under `id`. */
  const readCall = (id: number | string) =>
    JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'read-file', arguments: { filePath: 'a.txt' } },
    });
  const toolCalls = () => server.logs.filter((l) => l.event === 'tool.call').length;
  async function refusal(url: string, token?: string, protocols?: string[]): Promise<Refused> {
    const r = await connect(url, { ...(token ? { token } : {}), ...(protocols ? { protocols } : {}) });
    assert.ok(isRefused(r), 'expected a refused upgrade');
    return r;
  }

  it('refuses a missing token with 401 and a Bearer challenge pointing at the metadata', async () => {
    const r = await refusal(server.wsUrl);
    assert.equal(r.status, 401);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers.connection, 'close');
    const ch = parseBearerChallenge(r.headers['www-authenticate']);
    assert.ok(ch);
    assert.equal(ch.error, undefined);
    assert.equal(ch.resource_metadata, `http://localhost:${server.port}/.well-known/oauth-protected-resource/mcp`);
    assert.equal(JSON.parse(r.body).error, 'invalid_request');
    assert.ok(server.logs.some((l) => l.event === 'auth.refused' && l.reason === 'token_missing'));
  });
  it('refuses a bad token with 401 invalid_token and never logs the token', async () => {
    const token = await kc.sign({ aud: 'other' });
    const r = await refusal(server.wsUrl, token);
    assert.equal(r.status, 401);
    assert.equal(parseBearerChallenge(r.headers['www-authenticate'])?.error, 'invalid_token');
    assert.ok(!JSON.stringify(server.logs).includes(token));
  });
  it('refuses a token in the query string with 400 invalid_request (RFC 6750 §3.1)', async () => {
    const r = await refusal(`${server.wsUrl}?access_token=${await kc.sign()}`);
    assert.equal(r.status, 400);
    assert.equal(parseBearerChallenge(r.headers['www-authenticate'])?.error, 'invalid_request');
  });
  it('refuses a token lacking OAUTH_REQUIRED_SCOPES with 403 insufficient_scope', async () => {
    const r = await refusal(strict.wsUrl, await kc.sign({ scope: 'file.list' }));
    assert.equal(r.status, 403);
    const ch = parseBearerChallenge(r.headers['www-authenticate']);
    assert.equal(ch?.error, 'insufficient_scope');
    assert.equal(ch?.scope, 'file.read');
    const ws = await open(await kc.sign({ scope: 'file.read' }), undefined, strict.wsUrl);
    ws.close();
  });
  it('refuses other paths with 404', async () => {
    const r = await refusal(`${server.url.replace('http', 'ws')}/other`, await kc.sign());
    assert.equal(r.status, 404);
  });
  it('applies the subprotocol rules', async () => {
    const r = await refusal(server.wsUrl, await kc.sign(), ['graphql-ws']);
    assert.equal(r.status, 400);
    const both = await open(undefined, ['chat', 'mcp']);
    assert.equal(both.protocol, 'mcp');
    both.close();
    const none = await open(undefined, []);
    assert.equal(none.protocol, '');
    none.close();
  });
  it('answers invalid JSON with -32700 (id null) and keeps the socket usable', async () => {
    const ws = await open();
    await initialize(ws);
    const reply = new Promise<Record<string, unknown>>((resolve) =>
      ws.once('message', (d) => resolve(JSON.parse(d.toString()))),
    );
    ws.send('{not json');
    const err = (await reply) as { id: unknown; error: { code: number } };
    assert.equal(err.id, null);
    assert.equal(err.error.code, -32700);
    const pong = await request(ws, 7, 'ping');
    assert.deepEqual(pong.result, {});
    ws.close();
  });
  it('answers JSON that is not JSON-RPC with -32600 echoing its id when readable, null otherwise', async () => {
    const ws = await open();
    await initialize(ws);
    const three = replies(ws, 3);
    ws.send('{"jsonrpc":"2.0","id":42,"method":5}');
    ws.send('{"id":"abc","method":"ping"}');
    ws.send('[1,2]');
    assert.deepEqual(
      (await three).map((r) => [r.id, (r.error as { code: number }).code]),
      [
        [42, -32600],
        ['abc', -32600],
        [null, -32600],
      ],
    );
    ws.close();
  });
  it('refuses a request whose id is already in flight with -32600 and that id, without running it', async () => {
    const ws = await open();
    await initialize(ws);
    const two = replies(ws, 2);
    const calls = toolCalls();
    // Both frames arrive before the first call's file read can finish.
    ws.send(readCall(5));
    ws.send(readCall(5));
    const [refused, answered] = (await two) as [
      { id: unknown; error?: { code: number } },
      { id: unknown; result?: unknown },
    ];
    assert.equal(refused.id, 5);
    assert.equal(refused.error?.code, -32600);
    assert.equal(answered.id, 5);
    assert.ok(answered.result, 'the first request was answered');
    assert.equal(toolCalls() - calls, 1, 'the duplicate ran');
    // Once answered, the id may be used again.
    assert.deepEqual((await request(ws, 5, 'ping')).result, {});
    ws.close();
  });
  it('keeps the number 5 and the string "5" apart as ids in flight: both run and are answered', async () => {
    const ws = await open();
    await initialize(ws);
    const two = replies(ws, 2);
    const calls = toolCalls();
    // Both frames arrive before the first call's file read can finish.
    ws.send(readCall(5));
    ws.send(readCall('5'));
    assert.deepEqual((await two).map((r) => [r.id, r.result !== undefined]).sort(), [
      [5, true],
      ['5', true],
    ]);
    assert.equal(toolCalls() - calls, 2);
    ws.close();
  });
  it('closes with 1003 on a binary frame', async () => {
    const ws = await open();
    const done = closed(ws);
    ws.send(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping"}'), { binary: true });
    assert.equal((await done).code, CloseCode.UNSUPPORTED_DATA);
  });
  it('closes with 4401 "token expired" at exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const ws = await open(await kc.sign({ exp }));
    await initialize(ws);
    const t0 = Date.now();
    const { code, reason } = await closed(ws);
    assert.equal(code, CloseCode.TOKEN_EXPIRED);
    assert.equal(reason, 'token expired');
    assert.ok(Date.now() >= exp * 1000 - 50, 'closed before exp');
    assert.ok(Date.now() - t0 < 3500);
  });
  it('serves health, readiness and RFC 9728 metadata', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    for (const p of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const doc = (await (await fetch(`${server.url}${p}`)).json()) as Record<string, unknown>;
      assert.deepEqual(doc.authorization_servers, [kc.issuer]);
      assert.deepEqual(doc.scopes_supported, ['file.list', 'file.read']);
      assert.deepEqual(doc.bearer_methods_supported, ['header']);
      assert.equal(doc.resource, `http://localhost:${server.port}/mcp`);
    }
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
  });
  it('closes open sockets with 1001 on shutdown', async () => {
    const extra = await startTestServer(kc, root);
    const ws = await open(undefined, undefined, extra.wsUrl);
    const done = closed(ws);
    await extra.close();
    assert.equal((await done).code, CloseCode.GOING_AWAY);
  });
});
