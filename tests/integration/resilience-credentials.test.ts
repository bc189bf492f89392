// Resilience to what admins do to a client in Keycloak, through the Admin REST API, while a client
// keeps calling tools: scenario 1 (client secret rotated), scenario 3 (scope revoked and granted).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  ClientCredentialsTokenSource,
  isClientError,
  ResilientClient,
  StaticTokenSource,
  toolFailure,
} from '../../mcp-client/src/index.ts';
import { rotateClientSecret, setClientScope } from '../../scripts/admin/operations.ts';
import { isolatedRealm, TEST_CLIENTS } from '../support/keycloak.ts';
import { fullClientTokens, startCallLoop, startTestServer, summary, waitUntil } from '../support/resilience.ts';

const full = TEST_CLIENTS.full;
const REFUSED = /Keycloak refused the client credentials \((invalid|unauthorized)_client\) for client mcp-client/;

describe('resilience: client credentials and scopes changed by an admin', () => {
  it('scenario 1: client secret rotated — held tokens keep working, a secret file is re-read', async (t) => {
    const realm = await isolatedRealm('res-secret', { accessTokenLifespan: 6 });
    const server = await startTestServer(realm.issuer);
    const dir = mkdtempSync(path.join(tmpdir(), 'res-secret-'));
    const secretFile = path.join(dir, 'client_secret');
    writeFileSync(secretFile, full.clientSecret, { mode: 0o600 });
    t.after(async () => {
      await server.close();
      await realm.remove();
      rmSync(dir, { recursive: true, force: true });
    });

    const fromFile = new ClientCredentialsTokenSource({
      issuer: realm.issuer,
      clientId: full.clientId,
      clientSecretFile: secretFile,
      scope: 'file.read file.list',
    });
    const inline = new ClientCredentialsTokenSource({
      issuer: realm.issuer,
      clientId: full.clientId,
      clientSecret: full.clientSecret,
      scope: 'file.read file.list',
    });
    const fileClient = await ResilientClient.connect({ url: server.wsUrl, tokenSource: fromFile });
    const inlineClient = await ResilientClient.connect({ url: server.wsUrl, tokenSource: inline });
    t.after(() => Promise.all([fileClient.close(), inlineClient.close()]));
    const loopsStartedAt = Date.now();
    const fileLoop = startCallLoop(fileClient);
    const inlineLoop = startCallLoop(inlineClient);
    await Promise.all([fileLoop.nextSuccess(10_000), inlineLoop.nextSuccess(10_000)]);

    // Clients > mcp-client > Credentials > Regenerate, then the new secret into the file in place
    // (what scripts/admin/rotate-client-secret.ts --secret-file does).
    const heldExp = Number(decodeJwt(await inline.getToken()).exp) * 1000;
    const rotatedAt = Date.now();
    const { secret } = await rotateClientSecret(await realm.admin(), full.clientId);
    writeFileSync(secretFile, secret, { mode: 0o600 });
    const requestsAtRotation = fromFile.requestCount;

    // A token request with the old secret fails at once, with a message naming the fix.
    await assert.rejects(inline.getToken({ forceRefresh: true }), (err: unknown) => {
      assert.ok(isClientError(err, 'auth_refused'), String(err));
      assert.match(err.message, REFUSED);
      assert.match(err.message, /check OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET$/);
      assert.ok(!err.message.includes(full.clientSecret) && !err.message.includes(secret));
      return true;
    });
    const inlineFailuresBeforeExp = inlineLoop.failures.filter((f) => f.atMs < heldExp - rotatedAt).length;

    // The file-configured client renews with the new secret (re-read on unauthorized_client).
    const convergedMs = await waitUntil(async () => fromFile.requestCount > requestsAtRotation, 20_000, 100);
    await fileLoop.nextSuccess(10_000);
    // One more token lifetime (6 s) on the new secret: a second renewal, then calls still succeed.
    await waitUntil(async () => fromFile.requestCount >= requestsAtRotation + 2, 20_000, 100);
    await fileLoop.nextSuccess(10_000);
    await fileLoop.stop();

    // The inline client rides on its held token until exp, then fails clearly (needs a restart).
    await waitUntil(async () => inlineLoop.failures.length > 0, 15_000, 100);
    await inlineLoop.stop();
    assert.equal(inlineFailuresBeforeExp, 0, 'the held token kept working after the rotation');
    assert.match(inlineLoop.failures[0]?.message ?? '', REFUSED);

    summary(1, {
      calls: fileLoop.calls,
      failed: fileLoop.failures.length,
      converged_ms: convergedMs,
      token_requests: fromFile.requestCount,
      inline_calls: inlineLoop.calls,
      inline_first_failure_ms_after_rotation: loopsStartedAt + (inlineLoop.failures[0]?.atMs ?? 0) - rotatedAt,
    });
    assert.deepEqual(fileLoop.failures, [], 'no failed call with OAUTH_CLIENT_SECRET_FILE');
    assert.ok(fromFile.requestCount >= requestsAtRotation + 2, 'renewed at least twice on the new secret');
  });

  it('scenario 3: scope revoked and granted — new tokens follow, no restart', async (t) => {
    const realm = await isolatedRealm('res-scope');
    const admin = await realm.admin();
    // file.read as a default scope: a revoke then leaves new tokens without it (instead of failing
    // the whole token request, which is what an optional scope that is still requested does).
    await setClientScope(admin, full.clientId, 'file.read', 'revoke', 'optional');
    await setClientScope(admin, full.clientId, 'file.read', 'grant', 'default');
    const server = await startTestServer(realm.issuer);
    t.after(async () => {
      await server.close();
      await realm.remove();
    });
    const source = () => fullClientTokens(realm.issuer, 'file.list');
    const withFreshToken = async () => {
      const token = await source().getToken();
      const client = await ResilientClient.connect({ url: server.wsUrl, tokenSource: new StaticTokenSource(token) });
      t.after(() => client.close());
      return { token, client };
    };
    const scopes = (token: string) => String(decodeJwt(token).scope).split(' ');

    const running = await ResilientClient.connect({ url: server.wsUrl, tokenSource: source() });
    t.after(() => running.close());
    const loop = startCallLoop(running, { readFile: false });
    const before = await withFreshToken();
    assert.ok(scopes(before.token).includes('file.read'));

    await loop.nextSuccess(10_000);
    const { changed } = await setClientScope(await realm.admin(), full.clientId, 'file.read', 'revoke', 'default');
    assert.ok(changed);
    const revoked = await withFreshToken();
    assert.ok(!scopes(revoked.token).includes('file.read'), 'a new token lacks the revoked scope');
    assert.ok(scopes(revoked.token).includes('file.list'));
    const tools = (await revoked.client.listTools()).map((x) => x.name);
    assert.ok(tools.includes('list-files') && !tools.includes('read-file'), `tools/list: ${tools}`);
    const refused = await revoked.client.callTool('read-file', { filePath: 'sample1.txt' });
    const failure = toolFailure('read-file', refused, full.clientId);
    assert.ok(isClientError(failure, 'insufficient_scope'), String(failure));
    assert.match(failure.message, /needs scope file\.read.*Clients > mcp-client > Client scopes/);
    // A client still asking for the scope gets no token, with advice.
    const asking = new ClientCredentialsTokenSource({
      issuer: realm.issuer,
      clientId: full.clientId,
      clientSecret: full.clientSecret,
      scope: 'file.read file.list',
    });
    await assert.rejects(asking.getToken(), /invalid_scope.*Clients > mcp-client > Client scopes/);
    // The connection opened before the revoke keeps its token's scopes until exp (documented).
    assert.ok((await before.client.listTools()).some((x) => x.name === 'read-file'));

    const grantedAt = Date.now();
    await setClientScope(await realm.admin(), full.clientId, 'file.read', 'grant', 'default');
    const granted = await withFreshToken();
    const ok = await granted.client.callTool('read-file', { filePath: 'sample1.txt' });
    const convergedMs = Date.now() - grantedAt;
    assert.ok(!ok.isError, JSON.stringify(ok.content));
    assert.ok((await granted.client.listTools()).some((x) => x.name === 'read-file'));
    await loop.nextSuccess(10_000);
    await loop.stop();

    summary(3, { calls: loop.calls, failed: loop.failures.length, converged_ms: convergedMs });
    assert.deepEqual(loop.failures, []);
  });
});
