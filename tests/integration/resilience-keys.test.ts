// Scenario 2: the realm signing key rotated through the Admin REST API while clients keep calling.
// The server fetches the realm JWKS through a counting proxy (OAUTH_JWKS_URL) so fetches can be
// counted; JWKS_COOLDOWN_MS and JWKS_CACHE_MAX_AGE_MS are small so the bounds are observable.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { ResilientClient } from '../../mcp-client/src/index.ts';
import { rotateSigningKey } from '../../scripts/admin/operations.ts';
import { isolatedRealm, TEST_CLIENTS } from '../support/keycloak.ts';
import {
  fullClientTokens,
  startCallLoop,
  startJwksProxy,
  startTestServer,
  summary,
  unknownKidToken,
  upgradeStatus,
  waitUntil,
} from '../support/resilience.ts';

const COOLDOWN_MS = 1000;
const MAX_AGE_MS = 3000;
const _full = TEST_CLIENTS.full;

describe('resilience: signing key rotation', () => {
  it('scenario 2: new kid accepted at once without a fetch storm; removed keys refused within JWKS_CACHE_MAX_AGE_MS', async (t) => {
    const realm = await isolatedRealm('res-keys');
    const proxy = await startJwksProxy(`${realm.issuer}/protocol/openid-connect/certs`);
    const server = await startTestServer(realm.issuer, {
      OAUTH_JWKS_URL: proxy.url,
      JWKS_COOLDOWN_MS: String(COOLDOWN_MS),
      JWKS_CACHE_MAX_AGE_MS: String(MAX_AGE_MS),
    });
    t.after(async () => {
      await server.close();
      await proxy.close();
      await realm.remove();
    });
    const source = () => fullClientTokens(realm.issuer, 'file.read file.list');
    // One client per transport: WebSocket verifies at the upgrade, Streamable HTTP every request.
    const wsClient = await ResilientClient.connect({ url: server.wsUrl, tokenSource: source() });
    const httpClient = await ResilientClient.connect({ url: server.httpUrl, tokenSource: source() });
    t.after(() => Promise.all([wsClient.close(), httpClient.close()]));
    const loops = [startCallLoop(wsClient), startCallLoop(httpClient)];
    const kid = (token: string) => decodeProtectedHeader(token).kid;
    const admin = await realm.admin();

    const oldToken = await realm.token();
    assert.equal(await upgradeStatus(server.wsUrl, oldToken), 101);

    // Rotate with the old key kept passive: a new kid signs new tokens.
    const rotation = await rotateSigningKey(admin, { retire: 'passive' });
    const newToken = await realm.token();
    assert.equal(kid(newToken), rotation.newKid);
    // A burst: 20 upgrades with the new kid and 30 with kids nobody has, all at once.
    const fetchesBefore = proxy.fetches;
    const burstStart = Date.now();
    let newKidMs = 0;
    const timedUpgrade = async () => {
      const status = await upgradeStatus(server.wsUrl, newToken);
      newKidMs = Math.max(newKidMs, Date.now() - burstStart);
      return status;
    };
    const [accepted, junk] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, timedUpgrade)),
      Promise.all(
        Array.from({ length: 30 }, () => upgradeStatus(server.wsUrl, unknownKidToken(realm.issuer, randomUUID()))),
      ),
    ]);
    const burstMs = Date.now() - burstStart;
    const burstFetches = proxy.fetches - fetchesBefore;
    assert.deepEqual(new Set(accepted), new Set([101]), 'every token with the new kid is accepted');
    assert.deepEqual(new Set(junk), new Set([401]), 'unknown kids are refused');
    assert.ok(burstFetches >= 1 && burstFetches <= Math.ceil(burstMs / COOLDOWN_MS) + 1, `fetches=${burstFetches}`);

    // Passive: still in the JWKS, so old tokens verify, also after a max-age refetch (the calling
    // loops keep the cache in use, so the next fetch is the one JWKS_CACHE_MAX_AGE_MS triggers).
    await proxy.nextFetch(MAX_AGE_MS + 10_000);
    assert.equal(await upgradeStatus(server.wsUrl, oldToken), 101, 'old (passive) key still verifies');

    // Realm settings > Keys > Providers > old provider > Enabled off: it leaves the JWKS.
    const providerId = rotation.retired[0]?.providerId;
    assert.ok(providerId, 'the old key provider was retired');
    const component = await admin.components.findOne({ id: providerId });
    assert.ok(component);
    const disabledAt = Date.now();
    await admin.components.update(
      { id: providerId },
      { ...component, config: { ...component.config, enabled: ['false'] } },
    );
    const disableMs = await waitUntil(async () => (await upgradeStatus(server.wsUrl, oldToken)) === 401, 15_000, 100);
    const removalMs = Date.now() - disabledAt;
    assert.ok(removalMs <= MAX_AGE_MS + COOLDOWN_MS + 1500, `old key refused after ${removalMs} ms`);
    assert.equal(await upgradeStatus(server.wsUrl, newToken), 101);

    // Rotate again deleting the current key: a third kid's first token refetches, the deleted key goes.
    const second = await rotateSigningKey(await realm.admin(), { retire: 'delete' });
    const thirdToken = await realm.token();
    assert.equal(kid(thirdToken), second.newKid);
    assert.equal(await upgradeStatus(server.wsUrl, thirdToken), 101);
    const deleteMs = await waitUntil(async () => (await upgradeStatus(server.wsUrl, newToken)) === 401, 15_000, 100);

    // Calls keep succeeding on both transports after the second rotation.
    await Promise.all(loops.map((l) => l.nextSuccess(10_000)));
    await Promise.all(loops.map((l) => l.stop()));
    const calls = loops.reduce((n, l) => n + l.calls, 0);
    const failures = loops.flatMap((l) => l.failures);
    summary(2, {
      calls,
      failed: failures.length,
      converged_ms: newKidMs,
      burst_ms: burstMs,
      burst_fetches: burstFetches,
      removal_ms: removalMs,
      delete_refused_ms: deleteMs,
      disable_poll_ms: disableMs,
      jwks_fetches: proxy.fetches,
    });
    assert.deepEqual(failures, [], 'no failed call through two rotations');
  });
});
