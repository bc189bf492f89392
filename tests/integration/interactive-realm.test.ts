// The realm's clients for people, checked at Keycloak's endpoints without a browser: mcp-cli takes
// authorization code + PKCE S256 only, with loopback redirects on any port and nothing else;
// mcp-cli-device takes only the device grant; neither takes passwords; the list-only group's
// member never gets file.read (the browser tests sign in for real: interactive-login.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keycloak, TEST_RESOURCE } from '../support/keycloak.ts';

const kc = keycloak();
const endpoint = (name: string) => `${kc.issuer}/protocol/openid-connect/${name}`;

/** An authorization request of mcp-cli, not followed: Keycloak's first answer. */
function authorize(params: Record<string, string>): Promise<Response> {
  const url = new URL(endpoint('auth'));
  const all = {
    client_id: 'mcp-cli',
    response_type: 'code',
    scope: 'file.list',
    state: 's',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    resource: TEST_RESOURCE,
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== '') url.searchParams.set(k, v);
  return fetch(url, { redirect: 'manual' });
}

async function grant(params: Record<string, string>): Promise<{ status: number; error?: string }> {
  const res = await fetch(endpoint('token'), { method: 'POST', body: new URLSearchParams(params) });
  return { status: res.status, ...((await res.json()) as { error?: string }) };
}

describe('realm clients for people', () => {
  it('mcp-cli: shows the login page for a loopback redirect on any port', async () => {
    for (const redirect of ['http://127.0.0.1:49152/callback', 'http://127.0.0.1:8/callback']) {
      const res = await authorize({ redirect_uri: redirect });
      assert.equal(res.status, 200, redirect);
      assert.match(await res.text(), /id="kc-form-login"|name="username"/);
    }
  });

  it('mcp-cli: refuses other redirect URIs, a missing or plain PKCE challenge, and the implicit flow', async () => {
    for (const redirect of [
      'http://evil.example/callback',
      'http://127.0.0.1:4000/other',
      'https://127.0.0.1/callback',
    ]) {
      const res = await authorize({ redirect_uri: redirect });
      assert.equal(res.status, 400, redirect);
      assert.match(await res.text(), /Invalid parameter: redirect_uri/);
    }
    const redirect_uri = 'http://127.0.0.1:50000/callback';
    const cases: Record<string, string>[] = [
      { redirect_uri, code_challenge: '', code_challenge_method: '' },
      { redirect_uri, code_challenge_method: 'plain' },
      { redirect_uri, response_type: 'token' },
    ];
    for (const params of cases) {
      const res = await authorize(params);
      assert.equal(res.status, 302, JSON.stringify(params));
      const back = new URL(res.headers.get('location') as string);
      assert.equal(back.origin + back.pathname, redirect_uri);
      const error = back.searchParams.get('error') ?? new URLSearchParams(back.hash.slice(1)).get('error');
      assert.ok(error === 'invalid_request' || error === 'unauthorized_client', `${JSON.stringify(params)}: ${back}`);
    }
  });

  it('takes no passwords, and each client only its own grant', async () => {
    for (const client_id of ['mcp-cli', 'mcp-cli-device']) {
      const password = await grant({
        grant_type: 'password',
        client_id,
        username: 'alice',
        password: 'alice-dev-password',
      });
      assert.equal(password.error, 'unauthorized_client', client_id);
    }
    const deviceOnCli = await fetch(endpoint('auth/device'), {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'mcp-cli', scope: 'file.list' }),
    });
    assert.equal(deviceOnCli.status, 400);
    assert.equal(((await deviceOnCli.json()) as { error: string }).error, 'unauthorized_client');
    const codeOnDevice = await authorize({ client_id: 'mcp-cli-device', redirect_uri: 'http://127.0.0.1:1/callback' });
    assert.equal(codeOnDevice.status, 400);
  });
});
