// Scenario 4 (access tokens living a few seconds: many expiries in one run) and scenario 6 (the
// server restarted on the same port mid-run): a client keeps calling, and no call may fail.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ClientCredentialsTokenSource, ResilientClient, type SessionEvent } from '../../mcp-client/src/index.ts';
import type { ServerHandle } from '../../mcp-server/src/index.ts';
import { isolatedRealm, keycloak, TEST_CLIENTS } from '../support/keycloak.ts';
import { fullClientTokens, startCallLoop, startTestServer, summary, waitUntil } from '../support/resilience.ts';

const full = TEST_CLIENTS.full;
const LIFESPAN_S = 4;
const RUN_MS = 30_000;

/** Records the longest gap between a disconnect and the reconnect that followed it. */
function gapTracker() {
  let downAt: number | undefined;
  const state = { disconnects: 0, reconnects: 0, renewals: 0, maxGapMs: 0, codes: new Set<number>() };
  const onEvent = (e: SessionEvent) => {
    if (e.type === 'renewed') state.renewals++;
    else if (e.type === 'disconnected') {
      state.disconnects++;
      state.codes.add(e.code);
      downAt = Date.now();
    } else if (e.type === 'reconnected' && downAt !== undefined) {
      state.reconnects++;
      state.maxGapMs = Math.max(state.maxGapMs, Date.now() - downAt);
      downAt = undefined;
    }
  };
  return { state, onEvent };
}

describe('resilience: connections', () => {
  it(`scenario 4: ${LIFESPAN_S} s tokens over a ${RUN_MS / 1000} s run — zero failed calls on both transports`, async (t) => {
    const realm = await isolatedRealm('res-expiry', { accessTokenLifespan: LIFESPAN_S });
    const server = await startTestServer(realm.issuer);
    t.after(async () => {
      await server.close();
      await realm.remove();
    });
    const source = () => fullClientTokens(realm.issuer, 'file.read file.list');
    const ws = gapTracker();
    const wsSource = source();
    const httpSource = source();
    const wsClient = await ResilientClient.connect({ url: server.wsUrl, tokenSource: wsSource, onEvent: ws.onEvent });
    const httpClient = await ResilientClient.connect({ url: server.httpUrl, tokenSource: httpSource });
    t.after(() => Promise.all([wsClient.close(), httpClient.close()]));
    // Two loops per client so a call is often in flight when the server closes the socket.
    const wsLoop = startCallLoop(wsClient, { concurrency: 2, pauseMs: 20 });
    const httpLoop = startCallLoop(httpClient, { concurrency: 2, pauseMs: 20 });
    // A fixed-length run by design: the figure is how many expiries a RUN_MS run rides through.
    await delay(RUN_MS);
    await Promise.all([wsLoop.stop(), httpLoop.stop()]);

    summary(4, {
      calls: wsLoop.calls + httpLoop.calls,
      failed: wsLoop.failures.length + httpLoop.failures.length,
      converged_ms: ws.state.maxGapMs,
      ws_calls: wsLoop.calls,
      ws_renewals: ws.state.renewals,
      ws_reconnects: ws.state.reconnects,
      ws_token_requests: wsSource.requestCount,
      http_calls: httpLoop.calls,
      http_token_requests: httpSource.requestCount,
    });
    assert.deepEqual(wsLoop.failures, [], 'WebSocket: no failed call');
    assert.deepEqual(httpLoop.failures, [], 'Streamable HTTP: no failed call');
    const expiries = Math.floor(RUN_MS / 1000 / LIFESPAN_S) - 1;
    // The WebSocket renews its token in-band (auth/renew) ahead of each exp: one connection for
    // the whole run. (The 4401 close and reconnect for clients that do not renew: tests/unit/client/real-server.test.ts.)
    assert.ok(ws.state.renewals >= expiries, `renewals=${ws.state.renewals}`);
    assert.equal(ws.state.disconnects, 0, `the connection was never cut (codes ${[...ws.state.codes]})`);
    assert.ok(httpSource.requestCount >= expiries, `http token requests=${httpSource.requestCount}`);
  });

  it('scenario 6: server restarted on the same port mid-run — the client reconnects, no call lost', async (t) => {
    const kc = keycloak();
    let server: ServerHandle = await startTestServer(kc.issuer);
    const port = server.port;
    t.after(() => server.close());
    const ws = gapTracker();
    const client = await ResilientClient.connect({
      url: server.wsUrl,
      tokenSource: new ClientCredentialsTokenSource({
        issuer: kc.issuer,
        clientId: full.clientId,
        clientSecret: full.clientSecret,
        scope: 'file.read file.list',
      }),
      onEvent: ws.onEvent,
    });
    t.after(() => client.close());
    const loop = startCallLoop(client, { concurrency: 2, pauseMs: 20 });
    await loop.nextSuccess(10_000);

    const restartAt = Date.now();
    await server.close();
    server = await startTestServer(kc.issuer, { PORT: String(port) });
    const restartMs = Date.now() - restartAt;
    await loop.nextSuccess(15_000);
    const convergedMs = Date.now() - restartAt;
    // 20 more calls on the restarted server (any failure among them is in loop.failures).
    const callsAtConvergence = loop.calls;
    await waitUntil(async () => loop.calls >= callsAtConvergence + 20, 15_000, 50);
    await loop.stop();

    summary(6, {
      calls: loop.calls,
      failed: loop.failures.length,
      converged_ms: convergedMs,
      restart_ms: restartMs,
      reconnects: ws.state.reconnects,
    });
    assert.deepEqual(loop.failures, []);
    assert.ok(ws.state.codes.has(1001), `close codes: ${[...ws.state.codes]}`);
    assert.ok(ws.state.reconnects >= 1);
  });
});
