// A client identified by a client ID metadata document (CIMD, Keycloak's experimental `cimd`):
// the test serves the document, Keycloak fetches it when `mcp-client login --client-id <its URL>`
// sends the person to the login page, registers the client, and the sign-in completes in a real
// browser, and (once the registered client issues at+jwt, see below) `ls` works as that person. Keycloak runs in a container and reaches the document
// on the Docker bridge address, over plain http, which the copy realm's policy allows for this test
// only (the shared test Keycloak has no trust store for a test certificate). In a copy of the realm
// so the policy stays out of other tests. Keycloak 26.7.3 gives a CIMD client no audience mapper:
// the sign-in asks for mcp-server-audience, or its token has no aud (and with resource a 500,
// keycloak#49077; docs/interactive-login.md).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { loadConfig, type ServerHandle, startServer } from 'mcp-server';
import type { Browser } from 'playwright-core';
import { main } from '../../mcp-client/src/cli.ts';
import { acceptKeycloakConsent, freshPage, launchBrowser, submitKeycloakLogin } from '../support/browser.ts';
import { isolatedRealm, keycloak, TEST_RESOURCE } from '../support/keycloak.ts';

/** Runs the CLI in this process; resolves to its exit code and output. */
async function cli(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, env, { out: (t) => void out.push(t), err: (t) => void err.push(t), bytes: () => {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The access token of the one sign-in stored under `home`. */
function storedToken(home: string): string {
  const dir = path.join(home, 'mcp-client', 'logins');
  const [name] = readdirSync(dir);
  return (JSON.parse(readFileSync(path.join(dir, name as string), 'utf8')) as { accessToken: string }).accessToken;
}

/** The Docker bridge gateway of the Keycloak container: the host address Keycloak can reach. */
async function bridgeGateway(containerId: string): Promise<string> {
  const { stdout } = await promisify(execFile)('docker', [
    'inspect',
    '-f',
    '{{range .NetworkSettings.Networks}}{{.Gateway}} {{end}}',
    containerId,
  ]);
  const gateway = stdout.trim().split(/\s+/)[0];
  if (!gateway) throw new Error(`no bridge gateway for container ${containerId}`);
  return gateway;
}

/** A realm policy trusting documents on `host` over http (test only). */
function cimdPolicy(host: string): Record<string, unknown> {
  return {
    clientProfiles: {
      profiles: [
        {
          name: 'test-cimd',
          executors: [
            {
              executor: 'client-id-metadata-document',
              configuration: {
                'cimd-allow-http-scheme': true,
                'cimd-allow-permitted-domains': [host, '127.0.0.1'],
                'cimd-restrict-same-domain': false,
              },
            },
          ],
        },
      ],
    },
    clientPolicies: {
      policies: [
        {
          name: 'test-cimd',
          enabled: true,
          conditions: [
            {
              condition: 'client-id-uri',
              configuration: { 'client-id-uri-scheme': ['http'], 'client-id-uri-allow-permitted-domains': [host] },
            },
          ],
          profiles: ['test-cimd'],
        },
      ],
    },
  };
}

describe('sign-in with a client ID metadata document', () => {
  let realm: Awaited<ReturnType<typeof isolatedRealm>>;
  let documents: Server;
  let server: ServerHandle;
  let browser: Browser;
  let home: string;
  let clientId: string;
  let document = '';
  const fetched: string[] = [];

  before(async () => {
    const gateway = await bridgeGateway(keycloak().containerId);
    realm = await isolatedRealm('cimd', cimdPolicy(gateway));
    documents = createServer((req, res) => {
      fetched.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }).end(document);
    });
    // Only on the bridge: the document is for Keycloak's container, nobody else.
    documents.listen(0, gateway);
    await once(documents, 'listening');
    clientId = `http://${gateway}:${(documents.address() as AddressInfo).port}/mcp-client/client-metadata.json`;
    server = await startServer(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        OAUTH_ISSUER: realm.issuer,
        TARGET_DIR: 'data',
        LOG_LEVEL: 'silent',
        PUBLIC_URL: TEST_RESOURCE,
      }),
    );
    await server.ready;
    browser = await launchBrowser();
    home = mkdtempSync(path.join(tmpdir(), 'mcp-cimd-'));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    documents?.close();
    await realm?.remove();
    rmSync(home, { recursive: true, force: true });
  });

  it('Keycloak fetches the document, registers the client and the person signs in; ls works', async () => {
    const env = { XDG_CONFIG_HOME: home, SERVER_URL: server.url.replace(/^ws/, 'http'), OAUTH_RESOURCE: TEST_RESOURCE };
    const err: string[] = [];
    let authUrl!: (u: string) => void;
    const prompted = new Promise<string>((resolve) => {
      authUrl = resolve;
    });
    const io = {
      out: () => {},
      err: (t: string) => {
        err.push(t);
        const m = /^https?:\/\/\S+$/m.exec(t);
        if (m) authUrl(m[0]);
      },
      bytes: () => {},
    };
    const scope = 'file.read file.list profile mcp-server-audience';
    const run = main(['login', '--no-browser', '--timeout', '90', '--client-id', clientId, '--scope', scope], env, io);
    const url = new URL(
      await Promise.race([prompted, run.then((c) => Promise.reject(new Error(`exit ${c}: ${err}`)))]),
    );
    // The document names the redirect URI exactly (the CLI's port is known only now) and no secret.
    document = JSON.stringify({
      client_id: clientId,
      client_name: 'mcp-client (CIMD test)',
      redirect_uris: [url.searchParams.get('redirect_uri')],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'file.read file.list profile mcp-server-audience',
    });
    const page = await freshPage(browser);
    try {
      await page.goto(url.href);
      await page.locator('#username').waitFor();
      await submitKeycloakLogin(page, 'alice', 'alice-dev-password');
      const signedIn = page.getByText('You can close this window');
      assert.equal(await acceptKeycloakConsent(page, signedIn, 'cimd-consent-page'), true);
      await signedIn.waitFor();
    } finally {
      await page.context().close();
    }
    assert.equal(await run, 0, err.join('\n'));
    assert.deepEqual(fetched, ['/mcp-client/client-metadata.json'], 'Keycloak fetched the document once');
    const admin = await realm.admin();
    const [registered] = await admin.clients.find({ clientId });
    assert.equal(registered?.publicClient, true);
    const stored = storedToken(home);
    assert.equal(decodeJwt(stored).aud, TEST_RESOURCE, 'bound to the server (mcp-server-audience + resource)');
    // Keycloak 26.7.3 registers a CIMD client without "Use 'at+jwt' as access token header type",
    // so its tokens are typ JWT, which the server refuses (RFC 9068): the documented workaround is
    // to switch it on for the registered client; the next token is at+jwt.
    assert.equal(decodeProtectedHeader(stored).typ, 'JWT');
    const refused = await cli(['ls'], env);
    assert.equal(refused.code, 3);
    assert.match(refused.err, /typ header must be at\+jwt/);
    await admin.clients.update(
      { id: registered?.id as string },
      { ...registered, attributes: { ...registered?.attributes, 'access.token.header.type.rfc9068': 'true' } },
    );
    const works = await cli(['ls'], env);
    assert.equal(works.code, 0, works.err);
    assert.match(works.out, /sample1\.txt/);
    assert.equal(decodeProtectedHeader(storedToken(home)).typ, 'at+jwt');
  });
});
