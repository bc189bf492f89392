// The revocation check's failure policy and cost, against the real Keycloak behind a proxy the
// test can cut (the shared Keycloak container is not stopped): while introspection is
// unreachable the last verdict serves up to INTROSPECTION_MAX_STALENESS_MS, then connections
// close with 1013 and requests get 503 with Retry-After; service returns with Keycloak. And 1000
// WebSocket connections plus HTTP requests sharing one token cost one introspection per interval.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode } from 'mcp-ws-common';
import type WebSocket from 'ws';
import { isolatedRealm, TEST_RESOURCE } from '../support/keycloak.ts';
import { startTestServer } from '../support/resilience.ts';
import {
  httpUntilRefused,
  openHttp,
  openWs,
  startKeycloakProxy,
  startRevocationServer,
  wsCallLoop,
  wsCallSucceeds,
} from '../support/revocation.ts';
import { type LogLine, waitForLog, waitUntil } from '../support/wait.ts';

const INTERVAL_MS = 500;
const MAX_STALENESS_MS = 3000;
const MARGIN_MS = 2500;
const INTROSPECT = '/protocol/openid-connect/token/introspect';

describe('revocation check: failure policy and cost (real Keycloak)', { timeout: 240_000 }, () => {
  it('introspection unreachable: last verdict up to the staleness bound, then 1013 / 503 with Retry-After; Keycloak back restores', async (t) => {
    const kc = await isolatedRealm('revoke-down');
    t.after(() => kc.remove());
    const proxy = await startKeycloakProxy(kc.baseUrl);
    t.after(() => proxy.close());
    const logs: LogLine[] = [];
    const server = await startRevocationServer(
      kc.issuer,
      INTERVAL_MS,
      {
        OAUTH_DISCOVERY_URL: `${proxy.url}/realms/${kc.realm}`,
        INTROSPECTION_MAX_STALENESS_MS: String(MAX_STALENESS_MS),
      },
      logs,
    );
    t.after(() => server.close());
    const token = await kc.token('full', 'file.read file.list', TEST_RESOURCE);
    const ws = await openWs(server.wsUrl, token);
    const http = await openHttp(server.httpUrl, token);
    assert.ok(await wsCallSucceeds(ws, 1));
    // A round that confirmed the token through the proxy, so the staleness clock starts from it.
    await waitForLog(
      logs,
      (l) => l.event === 'revocation_checked' && l.failures === 0,
      10_000,
      'a good round',
      logs.length,
    );

    proxy.down = true;
    const cut = Date.now();
    const [wsEnd, httpEnd] = await Promise.all([
      wsCallLoop(ws, MAX_STALENESS_MS + INTERVAL_MS + 10 * MARGIN_MS),
      httpUntilRefused(http, 503, MAX_STALENESS_MS + INTERVAL_MS + 10 * MARGIN_MS),
    ]);
    const wsMs = wsEnd.closedAt - cut;
    const httpMs = httpEnd.refusedAt - cut;
    console.log(
      `# introspection down: websocket closed after ${wsMs} ms, http 503 after ${httpMs} ms (bound ${MAX_STALENESS_MS} ms)`,
    );
    assert.equal(wsEnd.code, CloseCode.TRY_AGAIN_LATER);
    assert.ok(wsMs >= MAX_STALENESS_MS - INTERVAL_MS, `kept serving on the last verdict (closed after ${wsMs} ms)`);
    assert.ok(wsEnd.lastOkAt - cut >= MAX_STALENESS_MS - INTERVAL_MS - MARGIN_MS, 'calls succeeded meanwhile');
    assert.ok(wsMs <= MAX_STALENESS_MS + INTERVAL_MS + MARGIN_MS, `closed ${wsMs} ms after the cut`);
    assert.ok(httpMs >= MAX_STALENESS_MS - INTERVAL_MS && httpMs <= MAX_STALENESS_MS + INTERVAL_MS + MARGIN_MS);
    assert.equal(httpEnd.okAfter, 0, 'fail closed: no call succeeds while introspection stays down');
    assert.match(httpEnd.retryAfter ?? '', /^\d+$/, '503 carries Retry-After');
    assert.ok(
      logs.some((l) => l.event === 'introspection_failed'),
      'the failures are logged',
    );

    proxy.down = false;
    await waitForLog(
      logs,
      (l) => l.event === 'revocation_checked' && l.failures === 0,
      10_000,
      'a good round',
      logs.length,
    );
    const again = await openWs(server.wsUrl, token);
    assert.ok(await wsCallSucceeds(again, 2), 'Keycloak reachable again: the same token works');
    assert.ok((await (await openHttp(server.httpUrl, token)).call()).ok);
    again.close();
  });

  it('JWKS unreachable: the last keys serve up to max age + JWKS_MAX_STALENESS_MS, then 503 with Retry-After; back on recovery', async (t) => {
    const kc = await isolatedRealm('jwks-stale');
    t.after(() => kc.remove());
    const proxy = await startKeycloakProxy(kc.baseUrl);
    t.after(() => proxy.close());
    const MAX_AGE_MS = 1000;
    const STALE_MS = 2000;
    // Without introspection: the key cache alone must bound how long removed keys could verify.
    const server = await startTestServer(kc.issuer, {
      PUBLIC_URL: TEST_RESOURCE,
      OAUTH_AUDIENCE: '',
      OAUTH_DISCOVERY_URL: `${proxy.url}/realms/${kc.realm}`,
      JWKS_CACHE_MAX_AGE_MS: String(MAX_AGE_MS),
      JWKS_MAX_STALENESS_MS: String(STALE_MS),
      JWKS_COOLDOWN_MS: '200',
    });
    t.after(() => server.close());
    const token = await kc.token('full', 'file.read file.list', TEST_RESOURCE);
    const http = await openHttp(server.httpUrl, token);
    assert.ok((await http.call()).ok);
    // Keys fetched now; cut right after, so the bound counts from this fetch at the latest.
    await waitUntil(async () => (await http.call()).ok && proxy.count('/certs') >= 2, 10_000, 50, 'a max-age refetch');
    proxy.down = true;
    const cut = Date.now();
    const end = await httpUntilRefused(http, 503, 10 * (MAX_AGE_MS + STALE_MS));
    const ms = end.refusedAt - cut;
    console.log(`# JWKS unreachable: refused with 503 after ${ms} ms (bound ${MAX_AGE_MS + STALE_MS} ms)`);
    assert.ok(ms <= MAX_AGE_MS + STALE_MS + MARGIN_MS, `503 after ${ms} ms`);
    assert.ok(end.lastOkAt - cut >= STALE_MS - MARGIN_MS, 'stale keys served within the bound');
    assert.equal(end.okAfter, 0, 'no call succeeds with keys older than the bound');
    assert.match(end.retryAfter ?? '', /^\d+$/);
    proxy.down = false;
    await waitUntil(async () => (await http.call()).ok, 10_000, 100, 'service after the JWKS is back');
  });

  it('1000 WebSocket connections and HTTP requests sharing one token: at most one introspection per interval', async (t) => {
    const kc = await isolatedRealm('revoke-cost');
    t.after(() => kc.remove());
    const proxy = await startKeycloakProxy(kc.baseUrl);
    t.after(() => proxy.close());
    const logs: LogLine[] = [];
    const server = await startRevocationServer(
      kc.issuer,
      INTERVAL_MS,
      { OAUTH_DISCOVERY_URL: `${proxy.url}/realms/${kc.realm}`, MAX_CONNECTIONS_PER_CLIENT: '2000' },
      logs,
    );
    t.after(() => server.close());
    const token = await kc.token('full', 'file.read file.list', TEST_RESOURCE);
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 1000; i += 50) {
      sockets.push(...(await Promise.all(Array.from({ length: 50 }, () => openWs(server.wsUrl, token)))));
    }
    t.after(() => {
      for (const ws of sockets) ws.terminate();
    });
    const http = await openHttp(server.httpUrl, token);

    const rounds = 10;
    const before = proxy.count(INTROSPECT);
    const startedAt = Date.now();
    const from = logs.length;
    let calls = 0;
    for (let r = 0; r < rounds; r++) {
      const seen = logs.length;
      // Keep the token in use on both transports while the rounds run.
      while (!logs.slice(seen).some((l) => l.event === 'revocation_checked')) {
        assert.ok(await wsCallSucceeds(sockets[calls % sockets.length]!, calls + 10));
        assert.ok((await http.call()).ok);
        calls++;
        if (Date.now() - startedAt > 60_000) throw new Error('rounds did not complete');
      }
    }
    const elapsed = Date.now() - startedAt;
    const introspections = proxy.count(INTROSPECT) - before;
    const completed = logs.slice(from).filter((l) => l.event === 'revocation_checked').length;
    const perMinute = Math.round((introspections / elapsed) * 60_000);
    console.log(
      `# 1000 connections, one token: ${introspections} introspections in ${completed} rounds over ${elapsed} ms (${perMinute}/min at ${INTERVAL_MS} ms; ${calls} calls on each transport meanwhile)`,
    );
    assert.ok(introspections <= completed + 1, `${introspections} introspections for ${completed} rounds`);
    assert.ok(introspections >= completed - 1, 'each round asked once');
  });
});
