// Scenario 5: Keycloak down and back. A dedicated Keycloak container (fixed host port, so the
// issuer survives `docker stop`/`docker start`); the server's JWKS_CACHE_MAX_AGE_MS is small so
// the outage outlasts it: the last good keys must stay in use (stale-if-error).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { StartedTestContainer } from 'testcontainers';
import { ClientCredentialsTokenSource, isClientError, ResilientClient } from '../../mcp-client/src/index.ts';
import type { ServerHandle } from '../../mcp-server/src/index.ts';
import { fixtureFor, TEST_CLIENTS } from '../support/keycloak.ts';
import { startKeycloakContainer } from '../support/keycloak-container.ts';
import { startCallLoop, startTestServer, summary, upgradeStatus, waitUntil } from '../support/resilience.ts';

const run = promisify(execFile);
const full = TEST_CLIENTS.full;
const MAX_AGE_MS = 2000;
const COOLDOWN_MS = 1000;

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe('resilience: Keycloak outage', () => {
  let container: StartedTestContainer;
  let kc: ReturnType<typeof fixtureFor>;
  before(async () => {
    const port = await freePort();
    container = await startKeycloakContainer({ hostPort: port });
    kc = fixtureFor(`http://localhost:${port}`, container.getId());
  });
  after(() => container?.stop({ timeout: 5000 }));

  it('scenario 5: server keeps verifying with cached keys, client fails only for a new token, all recovers', async (t) => {
    const logs: Record<string, unknown>[] = [];
    const server: ServerHandle = await startTestServer(
      kc.issuer,
      { JWKS_CACHE_MAX_AGE_MS: String(MAX_AGE_MS), JWKS_COOLDOWN_MS: String(COOLDOWN_MS), JWKS_TIMEOUT_MS: '2000' },
      logs,
    );
    t.after(() => server.close());
    const source = new ClientCredentialsTokenSource({
      issuer: kc.issuer,
      clientId: full.clientId,
      clientSecret: full.clientSecret,
      scope: 'file.read file.list',
    });
    const wsClient = await ResilientClient.connect({ url: server.wsUrl, tokenSource: source });
    const httpClient = await ResilientClient.connect({ url: server.httpUrl, tokenSource: source });
    t.after(() => Promise.all([wsClient.close(), httpClient.close()]));
    const loops = [startCallLoop(wsClient), startCallLoop(httpClient)];
    const held = await source.getToken();
    const requestsBefore = source.requestCount;
    await Promise.all(loops.map((l) => l.nextSuccess(10_000)));

    const downAt = Date.now();
    await run('docker', ['stop', '-t', '10', container.getId()]);
    const stopMs = Date.now() - downAt;
    // Wait until the server says it verifies with keys older than JWKS_CACHE_MAX_AGE_MS because a
    // refetch failed (the HTTP loop verifies every request, so the refetch is attempted).
    const servingStale = (l: Record<string, unknown>) =>
      l.event === 'jwks_fetch_failed' && typeof l.servingStaleMs === 'number' && l.servingStaleMs >= MAX_AGE_MS;
    await waitUntil(async () => logs.some(servingStale), 30_000, 100);

    // The server: held tokens verify (new WebSocket upgrades, every HTTP request), /readyz is 200.
    assert.equal(await upgradeStatus(server.wsUrl, held), 101, 'a held token opens a new connection');
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    const staleFetches = logs.filter((l) => l.event === 'jwks_fetch_failed' && typeof l.servingStaleMs === 'number');
    assert.ok(staleFetches.length >= 1, 'a refetch failed and the last good keys stayed in use');
    // The client: a new connection on the cached token needs no token endpoint ...
    const another = await ResilientClient.connect({ url: server.wsUrl, tokenSource: source });
    assert.ok(!(await another.callTool('list-files', { directory: '.' })).isError);
    await another.close();
    assert.equal(source.requestCount, requestsBefore, 'no token request while the token is good');
    // ... and only a request for a new token fails, saying why.
    await assert.rejects(source.getToken({ forceRefresh: true }), (err: unknown) => {
      assert.ok(isClientError(err, 'token_endpoint'), String(err));
      assert.match(
        err.message,
        /token request to http:\/\/localhost:\d+\/realms\/mcp\/protocol\/openid-connect\/token failed: connection refused \(ECONNREFUSED\)/,
      );
      return true;
    });
    const downFailures = loops.flatMap((l) => l.failures).length;

    // Keycloak back: new tokens, and the server refetches keys (honouring removals again).
    const upAt = Date.now();
    await run('docker', ['start', container.getId()]);
    await waitUntil(
      async () => (await fetch(`${kc.issuer}/.well-known/openid-configuration`).catch(() => undefined))?.ok === true,
      120_000,
      500,
    );
    const keycloakUpMs = Date.now() - upAt;
    const fresh = await source.getToken({ forceRefresh: true });
    assert.equal(await upgradeStatus(server.wsUrl, fresh), 101);
    const convergedMs = Date.now() - upAt;
    const logsAtUp = logs.length;
    await waitUntil(async () => logs.slice(logsAtUp).some((l) => l.event === 'jwks_fetched'), 10_000, 200);
    await Promise.all(loops.map((l) => l.nextSuccess(10_000)));
    await Promise.all(loops.map((l) => l.stop()));

    const calls = loops.reduce((n, l) => n + l.calls, 0);
    const failures = loops.flatMap((l) => l.failures);
    summary(5, {
      calls,
      failed: failures.length,
      converged_ms: convergedMs,
      keycloak_stop_ms: stopMs,
      keycloak_restart_ms: keycloakUpMs,
      outage_ms: upAt - downAt,
      stale_if_error_fetches: staleFetches.length,
    });
    assert.equal(downFailures, 0, 'no call failed while Keycloak was down');
    assert.deepEqual(failures, []);
  });
});
