// Proves keycloak/realm-export.json against a real Keycloak with openid-client's client-credentials grant.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { isolatedRealm, keycloak, TEST_CLIENTS } from '../support/keycloak.ts';

const kc = keycloak();

async function configFor(client: keyof typeof TEST_CLIENTS, secret?: string): Promise<oidc.Configuration> {
  const { clientId, clientSecret } = TEST_CLIENTS[client];
  return oidc.discovery(new URL(kc.issuer), clientId, secret ?? clientSecret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
}

describe('realm export', () => {
  it('issues a token with the expected iss, aud, scope, azp, sub and lifetime', async () => {
    const config = await configFor('full');
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'file.read file.list' });
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.iss, kc.issuer);
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    assert.ok(aud.includes('mcp-server'), `aud ${JSON.stringify(claims.aud)} lacks mcp-server`);
    const scopes = String(claims.scope).split(' ');
    assert.ok(scopes.includes('file.read') && scopes.includes('file.list'), `scope was "${claims.scope}"`);
    assert.equal(claims.azp, 'mcp-client');
    assert.equal(typeof claims.sub, 'string');
    assert.ok((claims.sub as string).length > 0);
    assert.equal((claims.exp as number) - (claims.iat as number), 300);
    assert.equal(tokens.expires_in, 300);
    assert.equal(claims.client_id, 'mcp-client', 'RFC 9068 client_id');
    assert.equal(decodeProtectedHeader(tokens.access_token).typ, 'at+jwt', 'RFC 9068 typ');
  });

  it('keeps aud but no file scopes when no scope is requested', async () => {
    const tokens = await oidc.clientCredentialsGrant(await configFor('full'));
    const claims = decodeJwt(tokens.access_token);
    assert.ok((Array.isArray(claims.aud) ? claims.aud : [claims.aud]).includes('mcp-server'));
    assert.ok(!String(claims.scope ?? '').includes('file.'), `scope was "${claims.scope}"`);
  });

  it('refuses a wrong secret with 401 invalid_client (Keycloak says unauthorized_client)', async () => {
    const config = await configFor('full', 'not-the-secret');
    await assert.rejects(oidc.clientCredentialsGrant(config, { scope: 'file.read' }), (err: unknown) => {
      assert.ok(err instanceof oidc.ResponseBodyError);
      assert.equal(err.status, 401);
      // RFC 6749 names this invalid_client; Keycloak 26 answers unauthorized_client. Clients must treat both alike.
      assert.ok(['invalid_client', 'unauthorized_client'].includes(err.error), err.error);
      return true;
    });
  });

  it('refuses an unknown scope with invalid_scope', async () => {
    const config = await configFor('full');
    await assert.rejects(oidc.clientCredentialsGrant(config, { scope: 'file.write' }), (err: unknown) => {
      assert.ok(err instanceof oidc.ResponseBodyError);
      assert.equal(err.error, 'invalid_scope');
      return true;
    });
  });

  it('gives the least-privilege client file.list but never file.read', async () => {
    const config = await configFor('lister');
    const listOnly = decodeJwt((await oidc.clientCredentialsGrant(config, { scope: 'file.list' })).access_token);
    assert.equal(listOnly.azp, 'mcp-lister');
    assert.ok(String(listOnly.scope).split(' ').includes('file.list'));
    await assert.rejects(oidc.clientCredentialsGrant(config, { scope: 'file.read' }), (err: unknown) => {
      assert.ok(err instanceof oidc.ResponseBodyError);
      assert.equal(err.error, 'invalid_scope');
      return true;
    });
  });

  it('lets the admin API see both clients and both file scopes', async () => {
    const admin = await kc.admin();
    const scopes = (await admin.clientScopes.find()).map((s) => s.name);
    for (const name of ['file.read', 'file.list', 'basic', 'service_account', 'mcp-server-audience'])
      assert.ok(scopes.includes(name), name);
    const [client] = await admin.clients.find({ clientId: 'mcp-client' });
    assert.ok(client?.serviceAccountsEnabled);
    assert.equal(client?.standardFlowEnabled, false);
    assert.equal(client?.directAccessGrantsEnabled, false);
  });
});

describe('least privilege by default', () => {
  it('grants the server audience through no realm default scope, only to the demo and people clients', async () => {
    const admin = await kc.admin();
    const defaults = (await admin.clientScopes.listDefaultClientScopes()).map((s) => s.name);
    const optional = (await admin.clientScopes.listDefaultOptionalClientScopes()).map((s) => s.name);
    assert.ok(!defaults.includes('mcp-server-audience'), `realm default scopes: ${defaults.join(', ')}`);
    assert.ok(!optional.includes('mcp-server-audience'), `realm optional scopes: ${optional.join(', ')}`);
    const holders: string[] = [];
    for (const client of await admin.clients.find()) {
      const linked = [
        ...(await admin.clients.listDefaultClientScopes({ id: client.id as string })),
        ...(await admin.clients.listOptionalClientScopes({ id: client.id as string })),
      ].map((s) => s.name);
      if (linked.includes('mcp-server-audience')) holders.push(client.clientId as string);
    }
    assert.deepEqual(holders.sort(), ['mcp-cli', 'mcp-cli-device', 'mcp-client', 'mcp-lister']);
  });

  it('registers the MCP server as a resource that can issue nothing itself', async () => {
    const admin = await kc.admin();
    const [server] = await admin.clients.find({ clientId: 'mcp-server' });
    assert.equal(server?.attributes?.resource_url, 'http://localhost:3000/mcp');
    assert.equal(server?.bearerOnly, true);
    assert.equal(server?.serviceAccountsEnabled, false);
    assert.equal(server?.standardFlowEnabled, false);
    assert.equal(server?.directAccessGrantsEnabled, false);
  });
});

describe('isolated realm fixture', () => {
  it('creates a working copy of the realm and removes it', async () => {
    const copy = await isolatedRealm('copy');
    try {
      const claims = decodeJwt(await copy.token('full', 'file.read'));
      assert.equal(claims.iss, copy.issuer);
      assert.notEqual(copy.issuer, kc.issuer);
      assert.ok(String(claims.scope).split(' ').includes('file.read'));
    } finally {
      await copy.remove();
    }
    await assert.rejects(copy.token('full'), /token request failed: 404/);
  });
});
