// Least privilege with an off-the-shelf SDK: `@modelcontextprotocol/client` (SDK v2)
// ClientCredentialsProvider configured for mcp-lister, over Streamable HTTP, against the real
// Keycloak and the real server. The provider follows MCP's scope selection (the 401 challenge's
// `scope`, else the metadata's scopes_supported) and sends RFC 8707 `resource` = the metadata's
// `resource`: the challenge must lead it to a token Keycloak grants mcp-lister (file.list), and a
// tool needing more must say so. The realm copy registers this server's URL as its resource.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, ClientCredentialsProvider, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { createLogger, loadConfig, type ServerHandle, startServer } from '../../mcp-server/src/index.ts';
import { isolatedRealm, TEST_CLIENTS } from '../support/keycloak.ts';

const DATA = path.resolve(import.meta.dirname, '../../data');

/** A port free right now (the server's canonical URI must be known before it starts). */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((r) => probe.close(r));
  return port;
}

describe('SDK v2 ClientCredentialsProvider as mcp-lister over Streamable HTTP', () => {
  let realm: Awaited<ReturnType<typeof isolatedRealm>>;
  let server: ServerHandle;
  let url: string;
  const tokenRequests: URLSearchParams[] = [];

  before(async () => {
    realm = await isolatedRealm('sdk');
    url = `http://127.0.0.1:${await freePort()}/mcp`;
    const admin = await realm.admin();
    const [resource] = await admin.clients.find({ clientId: 'mcp-server' });
    assert.ok(resource?.id);
    await admin.clients.update({ id: resource.id }, { ...resource, attributes: { resource_url: url } });
    const config = loadConfig({
      PORT: new URL(url).port,
      HOST: '127.0.0.1',
      TARGET_DIR: DATA,
      OAUTH_ISSUER: realm.issuer,
      PUBLIC_URL: url,
    });
    server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
    await server.ready;
  });
  after(async () => {
    await server?.close();
    await realm?.remove();
  });

  it('connects, lists, and cannot read; the token is bound to this server', async () => {
    const { clientId, clientSecret } = TEST_CLIENTS.lister;
    const provider = new ClientCredentialsProvider({ clientId, clientSecret, expectedIssuer: realm.issuer });
    // Records the token requests the SDK makes (the figure asked for, and what they carried).
    const recording: typeof fetch = async (input, init) => {
      const target = input instanceof Request ? input.url : String(input);
      if (target.endsWith('/protocol/openid-connect/token'))
        tokenRequests.push(new URLSearchParams(String(init?.body)));
      return fetch(input, init);
    };
    const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: recording });
    const client = new Client({ name: 'sdk-v2-lister', version: '0.0.0' });
    await client.connect(transport);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(tools.includes('list-files'), tools.join(', '));
      const listing = await client.callTool({ name: 'list-files', arguments: { directory: '.' } });
      assert.notEqual(listing.isError, true, JSON.stringify(listing.content));
      // 403 insufficient_scope scope="file.read": the SDK steps up with the union of scopes
      // (SEP-2350), and Keycloak refuses it, since mcp-lister may never hold file.read.
      await assert.rejects(
        client.callTool({ name: 'read-file', arguments: { filePath: 'sample1.txt' } }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'invalid_scope', String(err));
          return true;
        },
      );
    } finally {
      await client.close();
    }
    assert.equal(tokenRequests.length, 2, 'one token for the run, one refused step-up');
    const form = tokenRequests[0] as URLSearchParams;
    assert.equal(form.get('scope'), 'file.list', 'the challenge asked for what mcp-lister can get');
    assert.equal(form.get('resource'), url);
    const stepUp = tokenRequests[1] as URLSearchParams;
    assert.deepEqual(
      stepUp.get('scope')?.split(' ').sort(),
      ['file.list', 'file.read'],
      'the step-up asks for the union',
    );
    assert.equal(stepUp.get('resource'), url);
    const token = provider.tokens()?.access_token as string;
    assert.equal(decodeJwt(token).aud, url);
    assert.equal(decodeJwt(token).client_id, clientId);
    console.log(`# SDK v2 token requests per run: ${tokenRequests.length} (scope=${form.get('scope')})`);
  });
});
