// mcp-client against the real test Keycloak: client credentials by discovery, by explicit token
// URL and by the server's protected resource metadata naming a trusted issuer; a wrong secret
// and an untrusted issuer through the CLI. Servers here listen on a random port and are named by
// the realm's registered resource TEST_RESOURCE (PUBLIC_URL / OAUTH_RESOURCE).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { ClientCredentialsTokenSource, ResilientClient, ResourceDiscoveryTokenSource } from 'mcp-client';
import { loadConfig, type ServerHandle, startServer } from 'mcp-server';
import { keycloak, TEST_CLIENTS, TEST_RESOURCE } from '../support/keycloak.ts';

const kc = keycloak();
const full = TEST_CLIENTS.full;

function scopesOf(token: string): string[] {
  return String(decodeJwt(token).scope ?? '').split(' ');
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=development', 'mcp-client/src/cli.ts', ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

describe('mcp-client token sources against Keycloak', () => {
  it('gets a working token via discovery', async () => {
    const ts = new ClientCredentialsTokenSource({
      issuer: kc.issuer,
      clientId: full.clientId,
      clientSecret: full.clientSecret,
      scope: 'file.read file.list',
    });
    const token = await ts.getToken();
    const claims = decodeJwt(token);
    assert.equal(claims.azp, 'mcp-client');
    assert.equal(claims.iss, kc.issuer);
    assert.ok(scopesOf(token).includes('file.read') && scopesOf(token).includes('file.list'));
    assert.equal(await ts.getToken(), token, 'cached');
    assert.equal(ts.requestCount, 1);
  });

  it('gets a working token via the explicit token URL', async () => {
    const ts = new ClientCredentialsTokenSource({
      tokenUrl: kc.tokenEndpoint,
      clientId: TEST_CLIENTS.lister.clientId,
      clientSecret: TEST_CLIENTS.lister.clientSecret,
      scope: 'file.list',
    });
    const token = await ts.getToken();
    assert.equal(decodeJwt(token).azp, 'mcp-lister');
    assert.ok(scopesOf(token).includes('file.list'));
    assert.ok(!scopesOf(token).includes('file.read'));
  });

  it('takes the issuer from protected resource metadata only when it is a trusted one', async () => {
    // Stands in for the MCP server's metadata endpoint (RFC 9728), pointing at the real Keycloak.
    const meta = createServer((req, res) => {
      if (req.url === '/.well-known/oauth-protected-resource/mcp') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            resource: TEST_RESOURCE,
            authorization_servers: [kc.issuer],
            scopes_supported: ['file.read', 'file.list'],
          }),
        );
      } else res.writeHead(404).end();
    });
    meta.listen(0, '127.0.0.1');
    await once(meta, 'listening');
    try {
      const serverUrl = `ws://127.0.0.1:${(meta.address() as AddressInfo).port}/mcp`;
      const ts = new ResourceDiscoveryTokenSource({
        serverUrl,
        clientId: full.clientId,
        clientSecret: full.clientSecret,
        scope: 'file.read file.list',
        resource: TEST_RESOURCE,
        trustedIssuers: [kc.issuer],
      });
      const token = await ts.getToken();
      assert.equal(decodeJwt(token).azp, 'mcp-client');
      assert.equal(decodeJwt(token).aud, TEST_RESOURCE);
      assert.deepEqual(ts.metadata?.authorization_servers, [kc.issuer]);

      const env = {
        OAUTH_CLIENT_ID: full.clientId,
        OAUTH_CLIENT_SECRET: full.clientSecret,
        OAUTH_RESOURCE: TEST_RESOURCE,
      };
      const refused = await cli(['whoami', '--json', '--server', serverUrl], env);
      assert.equal(refused.code, 3, refused.stderr);
      assert.match(refused.stdout, new RegExp(`set OAUTH_ISSUER=${kc.issuer}`));
      assert.ok(!refused.stdout.includes(full.clientSecret));
      const r = await cli(['whoami', '--json', '--server', serverUrl, '--issuer', kc.issuer], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).client, 'mcp-client');
    } finally {
      meta.close();
    }
  });

  it('CLI: a wrong secret gives the refused-credentials message and exit code 3', async () => {
    const r = await cli(['whoami', '--issuer', kc.issuer], {
      OAUTH_CLIENT_ID: full.clientId,
      OAUTH_CLIENT_SECRET: 'definitely-wrong',
    });
    assert.equal(r.code, 3);
    // Keycloak 26 answers a bad secret with unauthorized_client (older versions: invalid_client).
    assert.match(
      r.stderr,
      /Keycloak refused the client credentials \((invalid|unauthorized)_client\) for client mcp-client at .*\/protocol\/openid-connect\/token: check OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET/,
    );
    assert.ok(!r.stderr.includes('definitely-wrong'));
  });

  it('CLI: an unlinked scope gives invalid_scope advice and exit code 3', async () => {
    const r = await cli(['whoami', '--issuer', kc.issuer, '--scope', 'file.read'], {
      OAUTH_CLIENT_ID: TEST_CLIENTS.lister.clientId,
      OAUTH_CLIENT_SECRET: TEST_CLIENTS.lister.clientSecret,
    });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /invalid_scope.*Clients > mcp-lister > Client scopes/);
  });
});

// The real server, imported statically: a broken import fails this file instead of skipping it.
describe('mcp-client against the real mcp-server', () => {
  let handle: ServerHandle;
  before(async () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      OAUTH_ISSUER: kc.issuer,
      TARGET_DIR: 'data',
      LOG_LEVEL: 'silent',
      PUBLIC_URL: TEST_RESOURCE,
    });
    handle = await startServer(config);
    await handle.ready;
  });
  after(() => handle?.close());

  for (const [transport, protocol, revision] of [
    ['ws', 'auto', '2026-07-28'],
    ['ws', '2025-11-25', '2025-11-25'],
    ['http', 'auto', '2026-07-28'],
    ['http', '2025-11-25', '2025-11-25'],
  ] as const) {
    it(`runs the demo steps through the CLI with a Keycloak token over ${transport}, --protocol ${protocol} (exit 0)`, async () => {
      const url = transport === 'ws' ? handle.wsUrl : handle.httpUrl;
      const r = await cli(['--server', url, '--issuer', kc.issuer, '--protocol', protocol], {
        OAUTH_CLIENT_ID: full.clientId,
        OAUTH_CLIENT_SECRET: full.clientSecret,
        OAUTH_RESOURCE: TEST_RESOURCE,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^1\\. Connected to .* \\(MCP ${revision}\\) as mcp-client`));
      assert.match(r.stdout, /2\. Files in "\."[\s\S]*sample1\.txt/);
      assert.match(r.stdout, /3\. sample1\.txt\n/);
      assert.match(r.stdout, /4\. sample2\.txt\n/);
    });
  }

  it("confirms the trusted issuer from the server's own resource metadata", async () => {
    const ts = new ResourceDiscoveryTokenSource({
      serverUrl: handle.wsUrl,
      clientId: full.clientId,
      clientSecret: full.clientSecret,
      scope: 'file.read file.list',
      resource: TEST_RESOURCE,
      trustedIssuers: [kc.issuer],
    });
    const client = await ResilientClient.connect({ url: handle.wsUrl, tokenSource: ts });
    try {
      const names = (await client.listTools()).map((t) => t.name);
      assert.ok(names.includes('list-files') && names.includes('read-file'));
      assert.ok(!(await client.callTool('read-file', { filePath: 'sample1.txt' })).isError);
    } finally {
      await client.close();
    }
  });

  it('mcp-lister: tools hides read-file, cat exits 3 naming the missing scope', async () => {
    const env = {
      OAUTH_CLIENT_ID: TEST_CLIENTS.lister.clientId,
      OAUTH_CLIENT_SECRET: TEST_CLIENTS.lister.clientSecret,
      OAUTH_RESOURCE: TEST_RESOURCE,
    };
    const common = ['--server', handle.wsUrl, '--issuer', kc.issuer, '--scope', 'file.list'];
    const tools = await cli(['tools', ...common], env);
    assert.equal(tools.code, 0, tools.stderr);
    assert.match(tools.stdout, /list-files/);
    assert.doesNotMatch(tools.stdout, /read-file/);
    const cat = await cli(['cat', 'sample1.txt', ...common], env);
    assert.equal(cat.code, 3, cat.stderr);
    assert.match(cat.stderr, /needs scope file\.read.*Clients > mcp-lister > Client scopes/);
  });
});
