// WWW-Authenticate -> ClientError mapping, and the ws transport against an in-test server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ClientError,
  errorFromRefusedUpgrade,
  ResilientClient,
  StaticTokenSource,
  toolFailure,
  WsClientTransport,
} from 'mcp-client';
import { FakeMcpServer } from './fake-mcp-server.ts';

describe('errorFromRefusedUpgrade', () => {
  const url = 'ws://h:3000/mcp';
  it('maps 401 invalid_token to upgrade_refused with the parsed challenge', () => {
    const err = errorFromRefusedUpgrade({
      url,
      status: 401,
      wwwAuthenticate:
        'Bearer error="invalid_token", error_description="token expired", scope="file.read file.list", resource_metadata="http://h:3000/.well-known/oauth-protected-resource/mcp"',
    });
    assert.equal(err.code, 'upgrade_refused');
    assert.equal(err.status, 401);
    assert.equal(err.oauthError, 'invalid_token');
    assert.equal(err.challenge?.resource_metadata, 'http://h:3000/.well-known/oauth-protected-resource/mcp');
    assert.equal(err.scope, 'file.read file.list');
    assert.match(err.message, /401 Unauthorized \(invalid_token: token expired\)/);
  });

  it('maps 403 insufficient_scope to insufficient_scope with Keycloak advice', () => {
    const err = errorFromRefusedUpgrade({
      url,
      status: 403,
      clientId: 'mcp-client',
      wwwAuthenticate: 'Bearer error="insufficient_scope", scope="file.read"',
    });
    assert.equal(err.code, 'insufficient_scope');
    assert.equal(
      err.message,
      'the server needs scope file.read, which the token lacks: add the client scope file.read to client mcp-client ' +
        'in Keycloak (Clients > mcp-client > Client scopes) and request it in OAUTH_SCOPE',
    );
  });

  it('falls back to the JSON body, and maps 503/404 to connect_failed', () => {
    const err = errorFromRefusedUpgrade({
      url,
      status: 401,
      body: '{"error":"invalid_token","error_description":"bad"}',
    });
    assert.equal(err.oauthError, 'invalid_token');
    assert.equal(err.challenge, undefined);
    assert.equal(errorFromRefusedUpgrade({ url, status: 503 }).code, 'connect_failed');
    assert.match(errorFromRefusedUpgrade({ url, status: 404 }).message, /SERVER_URL/);
    assert.equal(errorFromRefusedUpgrade({ url, status: 403, body: 'nope' }).code, 'upgrade_refused');
  });
});

describe('errorFromRefusedUpgrade on 503: the message follows the error field', () => {
  const url = 'ws://h:3000/mcp';
  const cases = [
    { error: 'over_capacity', says: /is over capacity/ },
    { error: 'temporarily_unavailable', says: /cannot verify tokens right now/ },
    { error: 'shutting_down', says: /is shutting down/ },
    { error: undefined, says: /is unavailable; try again later/ },
  ];
  for (const c of cases) {
    it(`503 ${c.error ?? 'without an error field'}`, () => {
      const body = c.error === undefined ? undefined : JSON.stringify({ error: c.error, error_description: 'x' });
      const err = errorFromRefusedUpgrade({ url, status: 503, body });
      assert.equal(err.code, 'connect_failed');
      assert.equal(err.status, 503);
      assert.match(err.message, c.says);
      if (c.error !== 'over_capacity') assert.doesNotMatch(err.message, /capacity/);
    });
  }
});

describe('WsClientTransport', () => {
  let server: FakeMcpServer;
  before(async () => {
    server = await FakeMcpServer.start({
      auth: (token) => {
        if (token === undefined) return { status: 401 };
        if (token === 'expired') return { status: 401, error: 'invalid_token', description: 'token expired' };
        if (token === 'lister') return { status: 403, error: 'insufficient_scope', scope: 'file.read' };
        return undefined;
      },
    });
  });
  after(() => server.stop());

  it('rejects a 401 with a typed error carrying the status and parsed challenge', async () => {
    const t = new WsClientTransport({ url: server.url, token: 'expired' });
    await assert.rejects(t.start(), (err: unknown) => {
      assert.ok(err instanceof ClientError);
      assert.equal(err.code, 'upgrade_refused');
      assert.equal(err.status, 401);
      assert.equal(err.challenge?.error, 'invalid_token');
      assert.equal(err.challenge?.error_description, 'token expired');
      assert.equal(
        err.challenge?.resource_metadata,
        `http://127.0.0.1:${server.port}/.well-known/oauth-protected-resource/mcp`,
      );
      return true;
    });
  });

  it('rejects a 403 insufficient_scope as insufficient_scope', async () => {
    const t = new WsClientTransport({ url: server.url, token: 'lister', clientId: 'mcp-lister' });
    await assert.rejects(t.start(), (err: unknown) => {
      assert.ok(err instanceof ClientError && err.code === 'insufficient_scope');
      assert.equal(err.status, 403);
      assert.equal(err.scope, 'file.read');
      assert.match(err.message, /Clients > mcp-lister > Client scopes/);
      return true;
    });
  });

  it('says "is the server running?" when the connection is refused', async () => {
    const gone = await FakeMcpServer.start();
    const url = gone.url;
    await gone.stop();
    const t = new WsClientTransport({ url, token: 'x' });
    await assert.rejects(t.start(), (err: unknown) => {
      assert.ok(err instanceof ClientError && err.code === 'connect_failed');
      assert.equal(err.message, `connection refused at ${url}: is the server running?`);
      return true;
    });
  });

  it('carries MCP with the bearer token and exposes the close code', async () => {
    const client = await ResilientClient.connect({ url: server.url, tokenSource: new StaticTokenSource('good') });
    assert.equal(client.serverInfo?.name, 'fake-mcp');
    assert.equal(client.protocolVersion, '2025-11-25');
    assert.deepEqual(
      (await client.listTools()).map((t) => t.name),
      ['list-files', 'read-file'],
    );
    const r = await client.callTool('read-file', { filePath: 'sample1.txt' });
    assert.deepEqual(r.content, [{ type: 'text', text: 'contents of sample1.txt' }]);
    assert.equal(server.tokens.at(-1), 'good');
    await client.close();

    const t = new WsClientTransport({ url: server.url, token: 'good' });
    const closed = new Promise<void>((resolve) => {
      t.onclose = () => resolve();
    });
    await t.start();
    server.closeAll(4401, 'token expired');
    await closed;
    assert.deepEqual(t.closeInfo, { code: 4401, reason: 'token expired' });
  });
});

describe('toolFailure', () => {
  const err = (text: string) => ({ isError: true, content: [{ type: 'text' as const, text }] });
  it("recognizes the server's missing-scope result and names the scope", () => {
    const e = toolFailure(
      'read-file',
      err('read-file needs scope file.read, which this token lacks; grant the client scope file.read to the client'),
      'mcp-lister',
    );
    assert.equal(e?.code, 'insufficient_scope');
    assert.equal(e?.scope, 'file.read');
    assert.match(e?.message ?? '', /Clients > mcp-lister > Client scopes/);
  });
  it('maps other error results to tool_error and successes to undefined', () => {
    assert.equal(toolFailure('read-file', err('ENOENT: sample9.txt does not exist'))?.code, 'tool_error');
    assert.equal(toolFailure('read-file', { content: [] }), undefined);
  });
});
