// Adversarial bearer tokens at the WebSocket upgrade: each is refused (401 invalid_token, 400
// invalid_request for a malformed request, or 431 for headers over node's limit) and a valid
// connection still works right after; while no signing keys can be obtained the answer is 503 with
// Retry-After. Keycloak-specific cases (another realm of the same Keycloak, ID/refresh tokens) are
// in tests/integration/security-tokens.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CompactEncrypt, exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { parseBearerChallenge } from 'mcp-ws-common';
import { createLogger, loadConfig, type ServerHandle, startServer } from '../../../mcp-server/src/index.ts';
import { waitUntil } from '../../support/wait.ts';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';
import { connect, initialize, isRefused } from '../server/helpers/ws-client.ts';
import { rawRequest, upgradeLines } from './raw-http.ts';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('adversarial tokens', () => {
  let issuer: LocalIssuer;
  let server: TestServer;
  let valid: string;
  const seenTokens: string[] = [];

  before(async () => {
    issuer = await startLocalIssuer();
    const root = mkdtempSync(path.join(tmpdir(), 'sec-tokens-'));
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    server = await startTestServer(issuer, root, { JWKS_COOLDOWN_MS: '0' });
    valid = await issuer.sign();
  });
  after(async () => {
    await server.close();
    await issuer.close();
  });

  /** A valid client can still connect and initialize. */
  async function stillServing(): Promise<void> {
    const ws = await connect(server.wsUrl, { token: valid });
    assert.ok(!isRefused(ws), 'a valid token must still be accepted');
    const reply = await initialize(ws);
    assert.equal(reply.result?.serverInfo?.name, 'mcp-ws-file-server');
    ws.close();
  }

  /**
   * Sends an upgrade with the given extra header lines; asserts the status (and for 400 the RFC 6750
   * `invalid_request` challenge) and that serving continues.
   */
  async function refused(extra: string[], status = 401, pathAndQuery = '/mcp'): Promise<void> {
    const answer = await rawRequest(server.port, upgradeLines(server.port, extra, pathAndQuery));
    assert.equal(answer.status, status, `expected ${status}, got: ${answer.head.split('\r\n')[0]}`);
    if (status === 401) assert.match(answer.head, /www-authenticate: Bearer/i);
    if (status === 400) {
      const header = /^www-authenticate: (.*)$/im.exec(answer.head)?.[1];
      assert.equal(parseBearerChallenge(header)?.error, 'invalid_request', answer.head);
      assert.equal(JSON.parse(answer.body).error, 'invalid_request');
    }
    await stillServing();
  }

  const bearer = async (token: string | Promise<string>, status = 401) => {
    const t = await token;
    seenTokens.push(t);
    await refused([`Authorization: Bearer ${t}`], status);
  };

  it('accepts a valid token (control) and lowercase "bearer" (RFC 7235 schemes are case-insensitive)', async () => {
    const answer = await rawRequest(server.port, upgradeLines(server.port, [`Authorization: bearer ${valid}`]));
    assert.equal(answer.status, 101);
    await stillServing();
  });

  it('no Authorization header', () => refused([]));
  it('alg none', () => bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${valid.split('.')[1]}.`));
  it('alg none with a signature part copied from a valid token', () =>
    bearer(`${b64({ alg: 'none', kid: 'k1' })}.${valid.split('.')[1]}.${valid.split('.')[2]}`));
  it('HS256 signed with the RSA public key as the HMAC secret (key confusion)', async () => {
    const pem = await exportSPKI(issuer.publicKey);
    const token = await new SignJWT({ azp: 'test-client', scope: 'file.read file.list' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(issuer.issuer)
      .setAudience('mcp-server')
      .setSubject('user-1')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(pem));
    await bearer(token);
  });
  it('unknown kid', () => bearer(issuer.sign({}, { kid: 'no-such-key' })));
  it('signed by another RSA key under the known kid', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ azp: 'test-client' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer.issuer)
      .setAudience('mcp-server')
      .setExpirationTime('5m')
      .sign(privateKey);
    await bearer(token);
  });
  it('attacker key embedded in the header (jwk) is not trusted', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const token = await new SignJWT({ azp: 'test-client' })
      .setProtectedHeader({ alg: 'RS256', jwk: await exportJWK(publicKey) })
      .setIssuer(issuer.issuer)
      .setAudience('mcp-server')
      .setExpirationTime('5m')
      .sign(privateKey);
    await bearer(token);
  });
  it('attacker JWKS URL in the header (jku) is not followed', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ azp: 'test-client' })
      .setProtectedHeader({ alg: 'RS256', kid: 'evil', jku: 'http://127.0.0.1:1/certs' })
      .setIssuer(issuer.issuer)
      .setAudience('mcp-server')
      .setExpirationTime('5m')
      .sign(privateKey);
    await bearer(token);
  });
  it('header alg PS256 with a key published for RS256', async () => {
    const parts = valid.split('.');
    await bearer(`${b64({ alg: 'PS256', kid: 'k1' })}.${parts[1]}.${parts[2]}`);
  });
  it('unknown critical header parameter', () =>
    bearer(
      (async () => {
        const parts = valid.split('.');
        return `${b64({ alg: 'RS256', kid: 'k1', crit: ['x-unknown'], 'x-unknown': 1 })}.${parts[1]}.${parts[2]}`;
      })(),
    ));
  it('expired', () => bearer(issuer.sign({ exp: Math.floor(Date.now() / 1000) - 60 })));
  it('nbf in the future', () => bearer(issuer.sign({ nbf: Math.floor(Date.now() / 1000) + 3600 })));
  it('missing exp', () => bearer(issuer.sign({}, { omit: ['exp'] })));
  it('only dots', () => bearer('..'));
  it('wrong iss', () => bearer(issuer.sign({ iss: 'http://127.0.0.1:1/realms/other' })));
  it('iss with a trailing slash', () => bearer(issuer.sign({ iss: `${issuer.issuer}/` })));
  it('iss differing only in case', () => bearer(issuer.sign({ iss: issuer.issuer.replace('realms', 'REALMS') })));
  it('missing aud', () => bearer(issuer.sign({}, { omit: ['aud'] })));
  it('foreign aud', () => bearer(issuer.sign({ aud: 'account' })));
  it('aud array without this resource', () => bearer(issuer.sign({ aud: ['account', 'mcp-server-2'] })));
  it('ID token (typ "ID")', () => bearer(issuer.sign({ typ: 'ID' })));
  it('refresh token (typ "Refresh")', () => bearer(issuer.sign({ typ: 'Refresh' })));
  it('header typ changed to logout+jwt on a valid token', async () => {
    const parts = valid.split('.');
    await bearer(`${b64({ alg: 'RS256', kid: 'k1', typ: 'logout+jwt' })}.${parts[1]}.${parts[2]}`);
  });
  it('Keycloak logout token (typ "Logout")', () => bearer(issuer.sign({ typ: 'Logout' })));
  it('tampered payload (scope widened, signature kept)', async () => {
    const [h, p, s] = valid.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    await bearer(`${h}.${b64({ ...claims, scope: 'file.read file.list admin' })}.${s}`);
  });
  it('tampered signature (one character changed)', async () => {
    const [h, p, s] = valid.split('.');
    const flipped = `${s!.slice(0, 10)}${s![10] === 'A' ? 'B' : 'A'}${s!.slice(11)}`;
    await bearer(`${h}.${p}.${flipped}`);
  });
  it('truncated token', () => bearer(valid.slice(0, valid.length - 12)));
  it('two parts only (no signature segment)', () => bearer(valid.split('.').slice(0, 2).join('.')));
  it('JWE (five parts) instead of a JWS', async () => {
    const { publicKey } = await generateKeyPair('RSA-OAEP-256');
    const jwe = await new CompactEncrypt(new TextEncoder().encode(valid))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'k1' })
      .encrypt(publicKey);
    assert.equal(jwe.split('.').length, 5);
    await bearer(jwe);
  });
  it('garbage base64 segments', () => bearer('aaaa.bbbb.cccc'));
  it('characters outside b64token -> 400 invalid_request', () => refused(['Authorization: Bearer !!!***$$$'], 400));
  it('empty bearer', () => refused(['Authorization: Bearer ']));
  it('scheme only', () => refused(['Authorization: Bearer']));
  it('two tokens in one header -> 400 invalid_request', () =>
    refused([`Authorization: Bearer ${valid}, Bearer ${valid}`], 400));
  it('wrong scheme (Basic)', () =>
    refused([`Authorization: Basic ${Buffer.from('mcp-client:secret').toString('base64')}`]));
  it('wrong scheme carrying a valid token (Token x)', () => refused([`Authorization: Token ${valid}`]));
  it('two Authorization headers (both valid) -> 400 invalid_request', () =>
    refused([`Authorization: Bearer ${valid}`, `Authorization: Bearer ${valid}`], 400));
  it('token only in the query string -> 400 invalid_request', () => refused([], 400, `/mcp?access_token=${valid}`));
  it('oversized token (12 KiB, over MAX_TOKEN_BYTES) -> 401 before parsing', () =>
    refused([`Authorization: Bearer ${'a'.repeat(12 * 1024)}`]));
  it('oversized token (20 KiB, over the 16 KiB header limit) -> 431', () =>
    refused([`Authorization: Bearer ${'a'.repeat(20 * 1024)}`], 431));

  it('audits credential refusals (400 invalid_request, 401) as auth.refused, policy refusals as access.denied', async () => {
    const cases = [
      { lines: [], target: `/mcp?access_token=${valid}`, status: 400, event: 'auth.refused', reason: 'token_in_query' },
      {
        lines: [`Authorization: Bearer ${valid}`, `Authorization: Bearer ${valid}`],
        status: 400,
        event: 'auth.refused',
        reason: 'token_malformed',
      },
      { lines: ['Authorization: Bearer !!!'], status: 400, event: 'auth.refused', reason: 'token_malformed' },
      { lines: [], status: 401, event: 'auth.refused', reason: 'token_missing' },
      { lines: ['Authorization: Bearer aaaa.bbbb.cccc'], status: 401, event: 'auth.refused', reason: 'token_invalid' },
      // ALLOWED_ORIGINS is empty here: any Origin is refused by policy.
      {
        lines: [`Authorization: Bearer ${valid}`, 'Origin: https://evil.example'],
        status: 403,
        event: 'access.denied',
        reason: 'origin_forbidden',
      },
    ];
    for (const c of cases) {
      const seen = server.logs.length;
      const answer = await rawRequest(server.port, upgradeLines(server.port, c.lines, c.target ?? '/mcp'));
      assert.equal(answer.status, c.status, c.reason);
      const audited = () =>
        server.logs.slice(seen).find((l) => l.event === 'auth.refused' || l.event === 'access.denied');
      await waitUntil(() => audited() !== undefined, 2000, 20, `the audit line of ${c.reason}`);
      const line = audited();
      assert.deepEqual(
        { event: line?.event, reason: line?.reason, status: line?.status },
        { event: c.event, reason: c.reason, status: c.status },
      );
    }
  });

  it('never logs a token', () => {
    const text = server.logs.map((l) => JSON.stringify(l)).join('\n');
    for (const t of [valid, ...seenTokens]) {
      const sig = t.split('.')[2];
      assert.ok(!text.includes(t), 'a token appeared in the log');
      if (sig && sig.length > 20) assert.ok(!text.includes(sig), 'a token signature appeared in the log');
    }
    assert.ok(server.logs.some((l) => l.event === 'auth.refused'));
    assert.ok(server.logs.some((l) => l.event === 'auth.accepted'));
  });
});

describe('tokens while no signing keys can be obtained', () => {
  let issuer: LocalIssuer;
  let server: ServerHandle;

  before(async () => {
    issuer = await startLocalIssuer();
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      TARGET_DIR: mkdtempSync(path.join(tmpdir(), 'sec-nokeys-')),
      OAUTH_ISSUER: issuer.issuer,
      OAUTH_JWKS_URL: 'http://127.0.0.1:1/certs', // nothing listens on port 1
      OAUTH_AUDIENCE: 'mcp-server',
      HANDSHAKE_TIMEOUT_MS: '300',
      SHUTDOWN_GRACE_MS: '0',
    });
    server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
  });
  after(async () => {
    await server.close();
    await issuer.close();
  });

  it('an upgrade with a valid token gets 503 temporarily_unavailable with Retry-After', async () => {
    const answer = await rawRequest(
      server.port,
      upgradeLines(server.port, [`Authorization: Bearer ${await issuer.sign()}`]),
    );
    assert.equal(answer.status, 503, answer.head);
    assert.match(answer.head, /^retry-after: [1-9]\d*$/im);
    assert.equal(JSON.parse(answer.body).error, 'temporarily_unavailable');
  });
  it('/readyz answers 503 not_ready with Retry-After', async () => {
    const res = await fetch(`${server.url}/readyz`);
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    assert.equal(((await res.json()) as { status: string }).status, 'not_ready');
  });
  it('a malformed request is still 400 and a missing token 401: the keys do not matter for those', async () => {
    const twice = await rawRequest(
      server.port,
      upgradeLines(server.port, ['Authorization: Bearer a.b.c', 'Authorization: Bearer a.b.c']),
    );
    assert.equal(twice.status, 400);
    assert.equal((await rawRequest(server.port, upgradeLines(server.port))).status, 401);
  });
});
