// One admission for both transports: connection caps count WebSocket connections and Streamable
// HTTP sessions together, concurrent HTTP initializes cannot pass the per-client cap, and the
// authentication timeout bounds both transports.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { waitForLog } from '../../support/wait.ts';
import { INITIALIZE, mcpRequest, openSession } from '../server/helpers/http-client.ts';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';
import { closed, connect, isRefused, type Refused } from '../server/helpers/ws-client.ts';

describe('admission shared by WebSocket and Streamable HTTP', () => {
  let issuer: LocalIssuer;
  let root: string;
  const servers: TestServer[] = [];

  before(async () => {
    issuer = await startLocalIssuer();
    root = mkdtempSync(path.join(tmpdir(), 'sec-admission-'));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function start(env: Record<string, string>): Promise<TestServer> {
    const s = await startTestServer(issuer, root, env);
    servers.push(s);
    return s;
  }

  it('counts one WebSocket and one HTTP session against MAX_CONNECTIONS_PER_CLIENT=2', async () => {
    const server = await start({ MAX_CONNECTIONS_PER_CLIENT: '2' });
    const token = await issuer.sign({ azp: 'pair' });
    const ws = await connect(server.wsUrl, { token });
    assert.ok(!isRefused(ws));
    const session = await openSession(server.httpUrl, token);

    const thirdWs = await connect(server.wsUrl, { token });
    assert.ok(isRefused(thirdWs), 'a third connection of the client over WebSocket');
    assert.equal(thirdWs.status, 429);
    assert.equal(thirdWs.headers['retry-after'], '5');
    assert.equal(JSON.parse(thirdWs.body).error, 'too_many_connections');
    const thirdHttp = await mcpRequest(server.httpUrl, { token, body: INITIALIZE });
    assert.equal(thirdHttp.status, 429, 'a third session of the client over HTTP');
    assert.equal(thirdHttp.headers['retry-after'], '5');
    assert.equal(JSON.parse(thirdHttp.text).error, 'too_many_connections');
    // Another client is not affected.
    assert.equal((await mcpRequest(server.httpUrl, { token: await issuer.sign(), body: INITIALIZE })).status, 200);

    // Closing the WebSocket frees a slot an HTTP session can take; ending that session frees one for a WebSocket.
    const gone = closed(ws as WebSocket);
    (ws as WebSocket).close();
    await gone;
    await waitForLog(
      server.logs,
      (l) => l.event === 'connection.closed' && l.transport === 'websocket' && l.azp === 'pair',
      2000,
      'the WebSocket close',
    );
    const again = await mcpRequest(server.httpUrl, { token, body: INITIALIZE });
    assert.equal(again.status, 200);
    const deleted = await mcpRequest(server.httpUrl, { method: 'DELETE', token, session });
    assert.equal(deleted.status, 200);
    const wsAgain = await connect(server.wsUrl, { token });
    assert.ok(!isRefused(wsAgain), 'the deleted session gave its slot back');
    (wsAgain as WebSocket).close();
    assert.ok(server.logs.some((l) => l.reason === 'client_over_capacity' && l.transport === 'http'));
    assert.ok(server.logs.some((l) => l.reason === 'client_over_capacity' && l.transport === 'websocket'));
  });

  it('counts both transports against MAX_CONNECTIONS (503 + Retry-After)', async () => {
    const server = await start({ MAX_CONNECTIONS: '2' });
    const ws = await connect(server.wsUrl, { token: await issuer.sign({ azp: 'a' }) });
    assert.ok(!isRefused(ws));
    await openSession(server.httpUrl, await issuer.sign({ azp: 'b' }));
    const overWs = (await connect(server.wsUrl, { token: await issuer.sign({ azp: 'c' }) })) as Refused;
    assert.equal(overWs.status, 503);
    assert.equal(overWs.headers['retry-after'], '5');
    const overHttp = await mcpRequest(server.httpUrl, { token: await issuer.sign({ azp: 'd' }), body: INITIALIZE });
    assert.equal(overHttp.status, 503);
    assert.equal(overHttp.headers['retry-after'], '5');
    (ws as WebSocket).close();
  });

  it('lets exactly MAX_CONNECTIONS_PER_CLIENT of 20 concurrent HTTP initializes through', async () => {
    const server = await start({ MAX_CONNECTIONS_PER_CLIENT: '3' });
    const token = await issuer.sign({ azp: 'burst' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => mcpRequest(server.httpUrl, { token, body: INITIALIZE })),
    );
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 200).length, 3, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 17, statuses.join(','));
    assert.equal(new Set(answers.map((a) => a.headers['mcp-session-id']).filter(Boolean)).size, 3);
  });

  describe('authentication timeout (JWKS endpoint that stalls)', () => {
    let stall: Server;
    let server: TestServer;
    before(async () => {
      // Serves the issuer's keys once (the start-up load), then never answers: a refetch for an
      // unknown kid hangs.
      let served = 0;
      stall = createServer((req, res) => {
        if (served++ > 0) return; // hold the request open
        fetch(issuer.jwksUrl).then(async (r) =>
          res.writeHead(200, { 'content-type': 'application/json' }).end(await r.text()),
        );
        void req;
      });
      await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
      server = await start({
        OAUTH_JWKS_URL: `http://127.0.0.1:${(stall.address() as AddressInfo).port}/certs`,
        JWKS_COOLDOWN_MS: '0',
        HANDSHAKE_TIMEOUT_MS: '300',
      });
    });
    after(async () => {
      stall.closeAllConnections();
      await new Promise((resolve) => stall.close(resolve));
    });

    it('refuses a WebSocket upgrade and an HTTP request whose verification hangs with 503', {
      timeout: 10_000,
    }, async () => {
      const token = await issuer.sign({}, { kid: 'rotated-key' });
      for (const attempt of [
        async () => ((await connect(server.wsUrl, { token })) as Refused).status,
        async () => (await mcpRequest(server.httpUrl, { token, body: INITIALIZE })).status,
      ]) {
        const t0 = performance.now();
        assert.equal(await attempt(), 503);
        const ms = performance.now() - t0;
        assert.ok(ms >= 250 && ms < 3000, `refused after ${Math.round(ms)} ms`);
      }
      const timedOut = server.logs.filter((l) => l.detail === 'authentication timed out');
      assert.deepEqual(timedOut.map((l) => l.transport).sort(), ['http', 'websocket']);
    });
  });
});
