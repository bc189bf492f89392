// What an admin withdraws in Keycloak stops working on live connections within
// REVOCATION_CHECK_INTERVAL_MS plus a margin, over WebSocket and Streamable HTTP, against the real
// Keycloak (one isolated realm per action, so realm-wide actions disturb no other test): a client
// calls tools throughout; its WebSocket closes with 4403, its HTTP calls get 401 invalid_token and
// none succeeds afterwards; another client keeps working (unless the action is realm-wide); and
// restoring (or a fresh token) brings service back. Figures: admin action -> connection stopped.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CloseCode } from 'mcp-ws-common';
import { rotateSigningKey, setClientScope } from '../../scripts/admin/operations.ts';
import { setClientNotBefore, setRealmNotBefore, withdrawScope } from '../../scripts/admin/withdraw.ts';
import { isolatedRealm, type KeycloakFixture, requestToken, TEST_CLIENTS, TEST_RESOURCE } from '../support/keycloak.ts';
import {
  httpUntilRefused,
  medianMax,
  openHttp,
  openWs,
  startRevocationServer,
  wsCallLoop,
  wsCallSucceeds,
} from '../support/revocation.ts';
import { type LogLine, waitForLog } from '../support/wait.ts';

const INTERVAL_MS = 500;
/** One introspection round trip plus scheduling on a loaded two-core machine. */
const MARGIN_MS = 2500;
const BOUND_MS = INTERVAL_MS + MARGIN_MS;

type Realm = Awaited<ReturnType<typeof isolatedRealm>>;

/** An admin action: `act` withdraws access; `restore` gives it back (fresh tokens work again). */
interface Action {
  readonly name: string;
  /** True when the action withdraws other clients' tokens too (realm not-before, a removed key). */
  readonly cutsEveryone?: boolean;
  /** Checks after the action, before restoring. */
  check?(kc: Realm): Promise<void>;
  /** Tokens for the victim client (mcp-client) and the bystander (mcp-lister). */
  act(kc: Realm, victimToken: string): Promise<void>;
  restore(kc: Realm): Promise<void>;
}

async function setEnabled(kc: KeycloakFixture, clientId: string, enabled: boolean): Promise<void> {
  const admin = await kc.admin();
  const [client] = await admin.clients.find({ clientId });
  await admin.clients.update({ id: client?.id as string }, { ...client, enabled });
}

/** RFC 7009, as the client itself does on close (its own credentials). */
async function revokeAtKeycloak(kc: KeycloakFixture, token: string): Promise<void> {
  const { clientId, clientSecret } = TEST_CLIENTS.full;
  const res = await fetch(`${kc.issuer}/protocol/openid-connect/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      token,
      token_type_hint: 'access_token',
      client_id: clientId,
      client_secret: clientSecret,
    }),
  });
  assert.equal(res.status, 200, 'Keycloak accepted the revocation');
}

const ACTIONS: Action[] = [
  {
    name: 'client disabled',
    act: (kc) => setEnabled(kc, 'mcp-client', false),
    restore: (kc) => setEnabled(kc, 'mcp-client', true),
  },
  {
    name: 'token revoked (RFC 7009)',
    act: (kc, token) => revokeAtKeycloak(kc, token),
    restore: async () => {},
  },
  {
    name: 'not-before pushed for the client',
    act: async (kc) => void (await setClientNotBefore(await kc.admin(), 'mcp-client')),
    restore: async () => {}, // tokens issued from now on are valid
  },
  {
    name: 'not-before pushed for the realm',
    cutsEveryone: true,
    act: async (kc) => void (await setRealmNotBefore(await kc.admin())),
    restore: async () => {},
  },
  {
    name: 'signing key removed',
    cutsEveryone: true,
    // Rotation first (the bystander's token is signed with the new key), then the old key goes.
    act: async (kc) => void (await rotateSigningKey(await kc.admin(), { retire: 'delete' })),
    restore: async () => {},
  },
  {
    name: 'scope removed, then tokens revoked (not-before)',
    // The admin script's sequence (npm run admin:withdraw -- scope mcp-client file.read).
    act: async (kc) => void (await withdrawScope(await kc.admin(), 'mcp-client', 'file.read')),
    check: async (kc) => {
      const { clientId, clientSecret } = TEST_CLIENTS.full;
      const answer = await requestToken(kc.tokenEndpoint, clientId, clientSecret, 'file.read file.list', TEST_RESOURCE);
      assert.equal(answer.error, 'invalid_scope', 'a new token cannot carry the removed scope');
    },
    restore: async (kc) => void (await setClientScope(await kc.admin(), 'mcp-client', 'file.read', 'grant')),
  },
];

describe('revocation reaches live connections (real Keycloak)', { timeout: 300_000 }, () => {
  const figures: { action: string; ws: number; http: number }[] = [];
  after(() => {
    for (const f of figures) console.log(`# revocation ${f.action}: websocket=${f.ws}ms http=${f.http}ms`);
    const ws = medianMax(figures.map((f) => f.ws));
    const http = medianMax(figures.map((f) => f.http));
    console.log(
      `# revocation summary: websocket median=${ws.median}ms max=${ws.max}ms; http median=${http.median}ms max=${http.max}ms`,
    );
  });

  for (const action of ACTIONS) {
    it(`${action.name}: WebSocket closed 4403 and HTTP 401 within ${BOUND_MS} ms, others unaffected, restored`, async (t) => {
      const kc = await isolatedRealm('revoke');
      t.after(() => kc.remove());
      const logs: LogLine[] = [];
      const server = await startRevocationServer(kc.issuer, INTERVAL_MS, {}, logs);
      t.after(() => server.close());
      const victim = await kc.token('full', 'file.read file.list', TEST_RESOURCE);
      const ws = await openWs(server.wsUrl, victim);
      const http = await openHttp(server.httpUrl, victim);
      assert.ok(await wsCallSucceeds(ws, 1), 'the victim calls over WebSocket');
      assert.ok((await http.call()).ok, 'the victim calls over HTTP');

      // Another client, connected before the action (after it when the action cuts everyone's tokens).
      let bystander = action.cutsEveryone
        ? undefined
        : await openWs(server.wsUrl, await kc.token('lister', 'file.list', TEST_RESOURCE));
      // The victim keeps calling on both transports from before the action until it is stopped.
      const wsDone = wsCallLoop(ws, 20 * BOUND_MS);
      const httpDone = httpUntilRefused(http, 401, 20 * BOUND_MS);
      const start = Date.now();
      await action.act(kc, victim);
      // Times count from the admin call's return (an upper bound on when Keycloak applied it).
      const acted = Date.now();
      bystander ??= await openWs(server.wsUrl, await kc.token('lister', 'file.list', TEST_RESOURCE));

      const [wsEnd, httpEnd] = await Promise.all([wsDone, httpDone]).catch((err: Error) => {
        // Say whether introspection kept failing (then the staleness bound, not the interval, applies).
        const failed = logs.filter((l) => l.event === 'introspection_failed').map((l) => l.error);
        throw new Error(`${err.message}; introspection failures: ${JSON.stringify(failed.slice(-3))}`, { cause: err });
      });
      assert.equal(wsEnd.code, CloseCode.TOKEN_REVOKED);
      const wsMs = wsEnd.closedAt - acted;
      const httpMs = httpEnd.refusedAt - acted;
      figures.push({ action: action.name, ws: wsMs, http: httpMs });
      assert.ok(wsMs <= BOUND_MS, `WebSocket closed ${wsMs} ms after the action (admin call took ${acted - start} ms)`);
      assert.ok(httpMs <= BOUND_MS, `HTTP refused ${httpMs} ms after the action`);
      assert.equal(httpEnd.okAfter, 0, 'no HTTP call succeeded after the first refusal');
      assert.match(httpEnd.wwwAuthenticate ?? '', /error="invalid_token"/);

      // Two intervals later the other client still works (its token was checked in those rounds).
      for (let i = 0; i < 2; i++) {
        await waitForLog(
          logs,
          (l) => l.event === 'revocation_checked',
          10 * BOUND_MS,
          'a revocation round',
          logs.length,
        );
      }
      assert.ok(await wsCallSucceeds(bystander, 2), 'the other client keeps working');
      bystander.close();
      await action.check?.(kc);

      await action.restore(kc);
      const again = await kc.token('full', 'file.list', TEST_RESOURCE);
      const restored = await openWs(server.wsUrl, again);
      assert.ok(await wsCallSucceeds(restored, 3), 'restored: a fresh token works over WebSocket');
      assert.ok((await (await openHttp(server.httpUrl, again)).call()).ok, 'restored: and over HTTP');
      restored.close();
    });
  }
});
