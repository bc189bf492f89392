// Floods: half-open upgrades and idle TCP connections are cut at the handshake timeout; a
// connection storm over the caps is refused cleanly (429 per client, 503 overall, with
// Retry-After) while an existing session keeps working.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { waitUntil } from '../../support/wait.ts';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';
import { connect, initialize, isRefused, type Refused, request } from '../server/helpers/ws-client.ts';
import { halfOpen } from './raw-http.ts';

const HANDSHAKE_MS = 300;

describe('floods', () => {
  let issuer: LocalIssuer;
  let server: TestServer;
  let session: WebSocket;
  let id = 1;

  before(async () => {
    issuer = await startLocalIssuer();
    server = await startTestServer(issuer, mkdtempSync(path.join(tmpdir(), 'sec-floods-')), {
      HANDSHAKE_TIMEOUT_MS: String(HANDSHAKE_MS),
      MAX_CONNECTIONS: '12',
      MAX_CONNECTIONS_PER_CLIENT: '4',
    });
    const ws = await connect(server.wsUrl, { token: await issuer.sign({ azp: 'steady' }) });
    assert.ok(!isRefused(ws));
    session = ws;
    await initialize(session);
  });
  after(async () => {
    session.close();
    await server.close();
    await issuer.close();
  });

  async function sessionAlive(): Promise<void> {
    const reply = await request(session, id++, 'ping');
    assert.deepEqual(reply.result, {});
  }

  it('cuts 100 half-open upgrade requests at the handshake timeout', async () => {
    const partial = 'GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n';
    const opened = await Promise.all(Array.from({ length: 100 }, () => halfOpen(server.port, partial)));
    await sessionAlive();
    const waited = await Promise.all(opened.map((o) => o.closed));
    for (const ms of waited) assert.ok(ms < HANDSHAKE_MS + 1500, `cut after ${ms} ms`);
    assert.ok(Math.min(...waited) >= HANDSHAKE_MS - 50, 'cut before the timeout');
    await sessionAlive();
  });

  it('cuts TCP connections that send nothing, and slowloris header dribbles', async () => {
    const silent = await halfOpen(server.port, '');
    const dribble = await halfOpen(server.port, 'GET /mcp HTTP/1.1\r\n');
    const timer = setInterval(() => dribble.socket.write('X-Pad: 1\r\n'), 50);
    const [a, b] = await Promise.all([silent.closed, dribble.closed]);
    clearInterval(timer);
    assert.ok(a < HANDSHAKE_MS + 1500 && b < HANDSHAKE_MS + 1500, `cut after ${a} / ${b} ms`);
    await sessionAlive();
  });

  it('refuses a storm over the per-client cap with 429 and Retry-After', async () => {
    const token = await issuer.sign({ azp: 'stormy' });
    const results = await Promise.all(Array.from({ length: 10 }, () => connect(server.wsUrl, { token })));
    const accepted = results.filter((r): r is WebSocket => !isRefused(r));
    const refused = results.filter(isRefused) as Refused[];
    assert.equal(accepted.length, 4);
    for (const r of refused) {
      assert.equal(r.status, 429);
      assert.ok(Number(r.headers['retry-after']) > 0);
      assert.equal(JSON.parse(r.body).error, 'too_many_connections');
    }
    await sessionAlive();
    for (const ws of accepted) ws.close();
  });

  it('refuses a storm over MAX_CONNECTIONS with 503 and Retry-After, then recovers', async () => {
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => issuer.sign({ azp: `crowd-${i}` })));
    const results = await Promise.all(tokens.map((token) => connect(server.wsUrl, { token })));
    const accepted = results.filter((r): r is WebSocket => !isRefused(r));
    const refused = results.filter(isRefused) as Refused[];
    assert.ok(accepted.length <= 11, `${accepted.length} accepted beside the steady session`);
    assert.ok(refused.length >= 9);
    for (const r of refused) {
      assert.equal(r.status, 503);
      assert.ok(Number(r.headers['retry-after']) > 0);
    }
    await sessionAlive();
    const acceptedAzps = results.flatMap((r, i) => (isRefused(r) ? [] : [`crowd-${i}`]));
    const seen = server.logs.length;
    await Promise.all(accepted.map((ws) => new Promise((resolve) => ws.once('close', resolve).close())));
    // The server gives a slot back before it logs the connection's close (listener order on the
    // socket's close): once every close is logged, every slot is free.
    await waitUntil(
      () =>
        acceptedAzps.every((azp) =>
          server.logs.slice(seen).some((l) => l.event === 'connection.closed' && l.azp === azp),
        ),
      5000,
      20,
      'the server to log each close',
    );
    const again = await connect(server.wsUrl, { token: tokens[0]! });
    assert.ok(!isRefused(again), 'slots are released once sockets close');
    again.close();
    assert.ok(server.logs.some((l) => l.event === 'access.denied' && l.reason === 'over_capacity'));
    assert.ok(server.logs.some((l) => l.event === 'access.denied' && l.reason === 'client_over_capacity'));
  });
});
