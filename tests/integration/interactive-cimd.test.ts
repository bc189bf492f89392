// A client identified by a client ID metadata document (CIMD, Keycloak's experimental `cimd`):
// the test serves the document over https, Keycloak fetches it when `mcp-client login --client-id
// <its URL>` sends the person to the login page, registers the client, and the sign-in completes in
// a real browser; then `ls` works as that person once the registered client issues at+jwt (below).
// Keycloak runs in a container and reaches the document at https://host.docker.internal:<port>
// (Docker's host-gateway: the bridge address, where the test listens), under a certificate from
// the run's test CA, which global-setup made and the test Keycloak trusts (truststore-paths;
// tests/support/test-ca.ts). The copy realm's policy is the repository's shape with this host as
// the trusted domain: https only, "Allow http scheme" off. A document behind a certificate Keycloak
// does not trust, and an http document URL, are refused without a client being registered.
// Keycloak 26.7.3 gives a CIMD client no audience mapper: the sign-in asks for mcp-server-audience;
// without it the token would have no aud, and with the resource every MCP client sends the code
// exchange fails with HTTP 500 (keycloak#49077), which a test here records.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { loadConfig, type ServerHandle, startServer } from 'mcp-server';
import type { Browser } from 'playwright-core';
import { main } from '../../mcp-client/src/cli.ts';
import { acceptKeycloakConsent, freshPage, launchBrowser, submitKeycloakLogin } from '../support/browser.ts';
import {
  authorize,
  bridgeGateway,
  cimdPolicy,
  clientMetadata,
  DOCUMENT_PATH,
  type DocumentServer,
  keycloakLogSince,
  serveDocument,
} from '../support/cimd.ts';
import { isolatedRealm, keycloak, TEST_RESOURCE } from '../support/keycloak.ts';
import { DOCKER_HOST_NAME } from '../support/keycloak-container.ts';
import {
  createTestCa,
  issueServerCertificate,
  removeTestCa,
  type ServerCertificate,
  testCa,
} from '../support/test-ca.ts';
import { waitUntil } from '../support/wait.ts';

/** Runs the CLI in this process; resolves to its exit code and output. */
async function cli(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, env, { out: (t) => void out.push(t), err: (t) => void err.push(t), bytes: () => {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Env for the CLI: its config under `home`, the server, the resource every MCP client sends. */
type CliEnv = Record<string, string>;

/**
 * `mcp-client login --client-id <docs.url> --scope <scope>` with alice signing in in the browser;
 * the document (set once the CLI's redirect URI is known) asks for `scope`. The CLI's exit code and stderr.
 */
async function signIn(browser: Browser, docs: DocumentServer, env: CliEnv, scope: string, shot = '') {
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
  const run = main(['login', '--no-browser', '--timeout', '90', '--client-id', docs.url, '--scope', scope], env, io);
  const url = new URL(await Promise.race([prompted, run.then((c) => Promise.reject(new Error(`exit ${c}: ${err}`)))]));
  // The document names the redirect URI exactly (the CLI's port is known only now) and no secret.
  docs.document = clientMetadata(docs.url, url.searchParams.get('redirect_uri') as string, scope);
  const page = await freshPage(browser);
  try {
    const started = Date.now();
    await page.goto(url.href);
    // Keycloak fetches the document now: its login page, or its error page when the fetch failed.
    await page.locator('#username, #kc-error-message').first().waitFor();
    console.log(`# login page with the document fetched: ${Date.now() - started} ms`);
    const refusal = page.locator('#kc-error-message');
    if (await refusal.isVisible()) {
      assert.fail(
        `Keycloak refused the client ID: "${(await refusal.textContent())?.trim()}" (does the test Keycloak trust the test CA and resolve ${DOCKER_HOST_NAME}? Its log says why)`,
      );
    }
    await submitKeycloakLogin(page, 'alice', 'alice-dev-password');
    const received = page.getByText('You can close this window');
    assert.equal(await acceptKeycloakConsent(page, received, shot), true, 'a new client asks for consent');
    await received.waitFor();
  } finally {
    await page.context().close();
  }
  return { code: await run, err: err.join('\n') };
}

/** The access token of the one sign-in stored under `home`. */
function storedToken(home: string): string {
  const dir = path.join(home, 'mcp-client', 'logins');
  const [name] = readdirSync(dir);
  return (JSON.parse(readFileSync(path.join(dir, name as string), 'utf8')) as { accessToken: string }).accessToken;
}

describe('sign-in with a client ID metadata document served over https', () => {
  let realm: Awaited<ReturnType<typeof isolatedRealm>>;
  let gateway: string;
  let certificate: ServerCertificate;
  let server: ServerHandle;
  let browser: Browser;
  let home: string;
  let env: CliEnv;

  before(async () => {
    gateway = await bridgeGateway(keycloak().containerId);
    realm = await isolatedRealm('cimd', cimdPolicy(DOCKER_HOST_NAME));
    certificate = await issueServerCertificate(testCa(), { dns: [DOCKER_HOST_NAME] });
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
    env = { XDG_CONFIG_HOME: home, SERVER_URL: server.url.replace(/^ws/, 'http'), OAUTH_RESOURCE: TEST_RESOURCE };
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await realm?.remove();
    rmSync(home, { recursive: true, force: true });
  });

  /** A document server under the run CA's certificate, closed after the test. */
  async function trustedDocument(t: { after(fn: () => void): void }): Promise<DocumentServer> {
    const docs = await serveDocument(certificate, gateway);
    t.after(() => docs.server.close());
    return docs;
  }

  it('Keycloak fetches the document over https, registers the client and the person signs in; ls works', async (t) => {
    const docs = await trustedDocument(t);
    const signedIn = await signIn(
      browser,
      docs,
      env,
      'file.read file.list profile mcp-server-audience',
      'cimd-consent-page',
    );
    assert.equal(signedIn.code, 0, signedIn.err);
    assert.deepEqual(docs.fetched, [DOCUMENT_PATH], 'Keycloak fetched the document once, over TLS');
    assert.deepEqual(docs.seen.tlsErrors, [], 'Keycloak trusted the test CA');
    const admin = await realm.admin();
    const [registered] = await admin.clients.find({ clientId: docs.url });
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

  it('without mcp-server-audience the code exchange fails: HTTP 500 in Keycloak 26.7.3 (keycloak#49077)', async (t) => {
    // A known Keycloak bug, recorded: the CIMD client has no audience mapper, so the token has no aud,
    // and with resource the token endpoint throws. Fixed for 26.8.0: when this fails after an upgrade,
    // update docs/interactive-login.md ("What Keycloak 26.7.3 gets wrong", 1.).
    const docs = await trustedDocument(t);
    const own = mkdtempSync(path.join(tmpdir(), 'mcp-cimd-'));
    t.after(() => rmSync(own, { recursive: true, force: true }));
    const since = new Date(Date.now() - 1000);
    const signedIn = await signIn(browser, docs, { ...env, XDG_CONFIG_HOME: own }, 'file.read file.list profile');
    assert.equal(signedIn.code, 3, signedIn.err);
    assert.match(signedIn.err, /the sign-in failed: unexpected HTTP response status code \(HTTP 500\)/);
    assert.deepEqual(docs.fetched, [DOCUMENT_PATH], 'the document was fetched and the client registered');
    assert.throws(() => storedToken(own), { code: 'ENOENT' }, 'no sign-in stored');
    const log = await keycloakLogSince(keycloak().containerId, since);
    assert.match(
      log,
      /NullPointerException[^\n]*\n\s+at [^\n]*ResourceIndicatorsPostProcessor\.findAudienceByClientAttribute/,
    );
  });

  it('a document behind a certificate Keycloak does not trust is refused; nothing is registered', async (t) => {
    const stranger = await createTestCa();
    t.after(() => removeTestCa(stranger));
    const untrusted = await serveDocument(await issueServerCertificate(stranger, { dns: [DOCKER_HOST_NAME] }), gateway);
    t.after(() => untrusted.server.close());
    const answer = await authorize(realm.issuer, untrusted.url);
    // Keycloak logs "HTTP connection failure: javax.net.ssl.SSLHandshakeException: (certificate_unknown)
    // PKIX path building failed" and answers its error page with the policy's detail.
    assert.equal(answer.status, 400, answer.error);
    assert.equal(answer.error, 'Client Metadata fetch failed');
    await waitUntil(() => untrusted.seen.tlsErrors.length > 0, 5_000, 50, 'the TLS handshake failure on our side');
    assert.deepEqual(untrusted.fetched, [], 'no document left over a TLS connection Keycloak refused');
    assert.deepEqual(await (await realm.admin()).clients.find({ clientId: untrusted.url }), []);
  });

  it('an http document URL is refused without a fetch (the policy requires https)', async (t) => {
    const docs = await trustedDocument(t);
    const url = docs.url.replace(/^https:/, 'http:');
    const answer = await authorize(realm.issuer, url);
    // The policy's condition matches https client IDs only, so Keycloak looks for a registered client.
    assert.equal(answer.status, 400, answer.error);
    assert.equal(answer.error, 'Client not found.');
    assert.equal(docs.seen.connections, 0, 'Keycloak did not connect');
    assert.deepEqual(await (await realm.admin()).clients.find({ clientId: url }), []);
  });
});
