// Dynamic client registration (RFC 7591) at the real Keycloak, with a person signing in in a real
// browser: `mcp-client ls --login --client-id auto` registers a public native client at the realm's
// registration endpoint when no client is registered beforehand, then alice signs in on Keycloak's
// pages. The realm lists Keycloak's default anonymous registration policies, with Allowed Client
// Scopes naming the server's scopes and Trusted Hosts trusting nobody; the test acts as the
// operator does in the console (docs/interactive-login.md, "Hosts that use DCR"), in a copy realm:
// Trusted Hosts lists the address Keycloak sees the request come from (the test reaches the
// container through a published port, so that is the Docker bridge gateway, read with docker
// inspect, not 127.0.0.1) and the redirect URI's host 127.0.0.1. Each refusal on the way is
// Keycloak's own, quoted by the CLI.
// What Keycloak 26.7.3 then does, asserted as it is: the registered client has no audience mapper
// (without the scope mcp-server-audience the code exchange fails with HTTP 500, keycloak#49077) and
// issues typ JWT tokens, which the server refuses until the client's at+jwt switch is on.
// The registered client is kept per issuer: the next sign-in uses it without registering again.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type ComponentRepresentation from '@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createLogger, loadConfig, type ServerHandle, startServer } from 'mcp-server';
import type { Browser } from 'playwright-core';
import { main } from '../../mcp-client/src/cli.ts';
import { acceptKeycloakConsent, freshPage, launchBrowser, submitKeycloakLogin } from '../support/browser.ts';
import { bridgeGateway, keycloakLogSince } from '../support/cimd.ts';
import { isolatedRealm, keycloak, TEST_RESOURCE } from '../support/keycloak.ts';

const ALICE = { username: 'alice', password: 'alice-dev-password' };
const POLICY_TYPE = 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy';
/** What the CLI registers as (RFC 7591 client_name; Keycloak's client name). */
const CLIENT_NAME = 'mcp-client';

/** What a CLI run printed, and the authorization URLs it sent the person to. */
interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  readonly urls: URL[];
  readonly ms: number;
}

describe('dynamic client registration at the real Keycloak (--client-id auto)', () => {
  let realm: Awaited<ReturnType<typeof isolatedRealm>>;
  let server: ServerHandle;
  let browser: Browser;
  let gateway: string;
  let home: string;
  let registrationFailed: string;

  before(async () => {
    gateway = await bridgeGateway(keycloak().containerId);
    realm = await isolatedRealm('dcr');
    server = await startServer(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        OAUTH_ISSUER: realm.issuer,
        TARGET_DIR: 'data',
        PUBLIC_URL: TEST_RESOURCE,
      }),
      { logger: createLogger({ level: 'silent' }) },
    );
    await server.ready;
    browser = await launchBrowser();
    home = mkdtempSync(path.join(tmpdir(), 'mcp-dcr-'));
    registrationFailed = `mcp-client: dynamic client registration at ${realm.issuer} failed (insufficient_scope: Policy`;
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await realm?.remove();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /** The realm's anonymous registration policy `providerId`. */
  async function anonymousPolicy(providerId: string) {
    const policies = await (await realm.admin()).components.find({ type: POLICY_TYPE });
    const policy = policies.find((c) => c.providerId === providerId && c.subType === 'anonymous');
    assert.ok(policy?.id, `the realm has the anonymous policy ${providerId}`);
    return policy;
  }

  /** Sets `config` on the realm's anonymous registration policy `providerId`, as the console does. */
  async function setAnonymousPolicy(providerId: string, config: Record<string, string[]>): Promise<void> {
    const policy = await anonymousPolicy(providerId);
    await (await realm.admin()).components.update(
      { id: policy.id as string },
      { ...policy, config: { ...policy.config, ...config } },
    );
  }

  /** The clients the CLI registered in the realm (Keycloak names a registered client by a UUID). */
  async function registered() {
    return (await (await realm.admin()).clients.find()).filter(
      (c) =>
        c.name === CLIENT_NAME &&
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(c.clientId ?? ''),
    );
  }

  /** Alice signs in at `url` in a fresh browser context, consenting when asked. */
  async function signIn(url: URL): Promise<void> {
    const page = await freshPage(browser);
    try {
      await page.goto(url.href);
      await page.locator('#username, #kc-error-message').first().waitFor();
      const refusal = page.locator('#kc-error-message');
      if (await refusal.isVisible()) assert.fail(`Keycloak refused: "${(await refusal.textContent())?.trim()}"`);
      await submitKeycloakLogin(page, ALICE.username, ALICE.password);
      const done = page.getByText('You can close this window');
      await acceptKeycloakConsent(page, done, 'dcr-consent-page');
      await done.waitFor();
    } finally {
      await page.context().close();
    }
  }

  /** Runs the CLI with `--login --client-id auto`; each authorization URL it prints, alice signs in at. */
  async function run(argv: string[]): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const urls: URL[] = [];
    const signIns: Promise<void>[] = [];
    const io = {
      out: (t: string) => void out.push(t),
      err: (t: string) => {
        err.push(t);
        const m = /^https?:\/\/\S+\/auth\?\S+$/m.exec(t);
        if (m) {
          urls.push(new URL(m[0]));
          signIns.push(signIn(new URL(m[0])));
        }
      },
      bytes: (b: Buffer) => void out.push(b.toString('utf8')),
    };
    const env = { XDG_CONFIG_HOME: home, SERVER_URL: server.url.replace(/^ws/, 'http'), OAUTH_RESOURCE: TEST_RESOURCE };
    const started = performance.now();
    const code = await main([...argv, '--login', '--client-id', 'auto', '--no-browser', '--timeout', '60'], env, io);
    await Promise.all(signIns);
    return { code, out: out.join('\n'), err: err.join('\n'), urls, ms: Math.round(performance.now() - started) };
  }

  /** The access token of the one sign-in stored under `home`. */
  function storedToken(): string {
    const dir = path.join(home, 'mcp-client', 'logins');
    const [name] = readdirSync(dir);
    return (JSON.parse(readFileSync(path.join(dir, name as string), 'utf8')) as { accessToken: string }).accessToken;
  }

  it('the realm keeps every anonymous policy Keycloak creates by default, trusting no host', async () => {
    // A realm export that lists registration policies replaces Keycloak's defaults wholesale: compare
    // with a realm Keycloak set up itself, so that none (Consent Required, Max Clients...) is lost.
    const admin = await realm.admin();
    const reference = `dcr-defaults-${process.pid}`;
    await admin.realms.create({ realm: reference, enabled: false });
    try {
      const policies = async (name: string) =>
        (await admin.components.find({ realm: name, type: POLICY_TYPE }))
          .map((c) => `${c.subType} ${c.providerId} ${c.name}`)
          .sort();
      assert.deepEqual(await policies(realm.realm), await policies(reference));
      const defaults = await admin.components.find({ realm: reference, type: POLICY_TYPE });
      const mappers = (c: ComponentRepresentation | undefined) =>
        [c?.config?.['allowed-protocol-mapper-types'] ?? []].flat().sort();
      for (const ours of await admin.components.find({ realm: realm.realm, type: POLICY_TYPE })) {
        if (ours.providerId !== 'allowed-protocol-mappers') continue;
        const theirs = defaults.find((c) => c.providerId === ours.providerId && c.subType === ours.subType);
        assert.deepEqual(mappers(ours), mappers(theirs), `${ours.subType} protocol mapper types as Keycloak's`);
      }
    } finally {
      await admin.realms.del({ realm: reference });
    }
    const trusted = await anonymousPolicy('trusted-hosts');
    assert.deepEqual(trusted.config?.['trusted-hosts'] ?? [], [], 'no host trusted');
    assert.deepEqual(trusted.config?.['host-sending-registration-request-must-match'], ['true']);
    assert.deepEqual(trusted.config?.['client-uris-must-match'], ['true']);
    assert.deepEqual((await anonymousPolicy('max-clients')).config?.['max-clients'], ['200']);
  });

  it('an untrusted host is refused at registration with Keycloak’s words, policy by policy', async () => {
    // As imported: the scopes allowed, no host trusted.
    const untrusted = await run(['ls']);
    assert.equal(untrusted.code, 3, untrusted.err);
    assert.equal(
      untrusted.err,
      `${registrationFailed} 'Trusted Hosts' rejected request to client-registration service. Details: Host not trusted.); pre-register a client and pass --client-id`,
    );
    assert.deepEqual(untrusted.urls, [], 'nobody is sent to a login page');
    // The address trusted, not the redirect URI's host (http://127.0.0.1:<port>/callback).
    await setAnonymousPolicy('trusted-hosts', { 'trusted-hosts': [gateway] });
    const redirect = await run(['ls']);
    assert.equal(redirect.code, 3, redirect.err);
    assert.equal(
      redirect.err,
      `${registrationFailed} 'Trusted Hosts' rejected request to client-registration service. Details: URI doesn't match any trusted host or trusted domain); pre-register a client and pass --client-id`,
    );
    // Both trusted; a scope the Allowed Client Scopes policy does not list (the client registers
    // with RFC 7591 scope: the scopes it will ask for).
    await setAnonymousPolicy('trusted-hosts', { 'trusted-hosts': [gateway, '127.0.0.1'] });
    const scopes = await run(['ls', '--scope', 'file.list admin']);
    assert.equal(scopes.code, 3, scopes.err);
    assert.equal(
      scopes.err,
      `${registrationFailed} 'Allowed Client Scopes' rejected request to client-registration service. Details: Not permitted to use specified clientScope); pre-register a client and pass --client-id`,
    );
    assert.deepEqual(await registered(), [], 'nothing registered');
    console.log(`# refusals: ${untrusted.ms} ms, ${redirect.ms} ms, ${scopes.ms} ms`);
  });

  it('a trusted host registers a public native client; alice signs in; without the audience scope the code exchange fails (keycloak#49077)', async () => {
    const since = new Date(Date.now() - 1000);
    const ls = await run(['ls']);
    const [client, ...more] = await registered();
    assert.deepEqual(more, [], 'one client registered');
    assert.equal(client?.publicClient, true);
    assert.equal(client?.consentRequired, true, "Keycloak's Consent Required policy");
    assert.deepEqual(
      client?.optionalClientScopes?.sort(),
      ['file.list', 'file.read'],
      'the server’s scopes, for the step-up',
    );
    const [withPort, anyPort] = [...(client?.redirectUris ?? [])].sort().reverse();
    assert.match(withPort ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.equal(anyPort, 'http://127.0.0.1/callback', 'the port-less URI for later sign-ins');
    assert.equal(ls.urls.length, 1, 'alice was sent to the login page once');
    assert.equal(ls.urls[0]?.searchParams.get('client_id'), client?.clientId);
    // Keycloak 26.7.3: the registered client has no audience mapper, so the token has no aud, and
    // with the resource every MCP client sends the token endpoint throws (as for a CIMD client).
    assert.equal(ls.code, 3, ls.err);
    assert.match(ls.err, /mcp-client: the sign-in failed: unexpected HTTP response status code \(HTTP 500\)$/);
    const log = await keycloakLogSince(keycloak().containerId, since);
    assert.match(
      log,
      /NullPointerException[^\n]*\n\s+at [^\n]*ResourceIndicatorsPostProcessor\.findAudienceByClientAttribute/,
    );
    console.log(`# DCR + browser sign-in to the refused code exchange: ${ls.ms} ms`);
  });

  it('asking for mcp-server-audience too, the token names the server; ls works once the client issues at+jwt', async () => {
    const scope = ['--scope', 'file.list file.read mcp-server-audience'];
    const signedIn = await run(['ls', ...scope]);
    // The kept client was not registered for mcp-server-audience: a client for these scopes is.
    const clients = await registered();
    assert.equal(clients.length, 2);
    const client = clients.find((c) => c.optionalClientScopes?.includes('mcp-server-audience'));
    assert.equal(signedIn.urls[0]?.searchParams.get('client_id'), client?.clientId);
    const token = storedToken();
    assert.equal(decodeJwt(token).aud, TEST_RESOURCE, 'bound to the server');
    assert.equal(decodeJwt(token).azp, client?.clientId);
    // Keycloak 26.7.3 registers the client without "Use 'at+jwt' as access token header type".
    assert.equal(decodeProtectedHeader(token).typ, 'JWT');
    assert.equal(signedIn.code, 3, signedIn.err);
    assert.match(signedIn.err, /401 Unauthorized \(invalid_token: .*typ header must be at\+jwt\)/);
    assert.equal(signedIn.urls.length, 1, 'a refused token does not loop through sign-ins');
    // The operator's workaround, as for CIMD: switch it on for the registered client.
    const admin = await realm.admin();
    await admin.clients.update(
      { id: client?.id as string },
      { ...client, attributes: { ...client?.attributes, 'access.token.header.type.rfc9068': 'true' } },
    );
    const works = await run(['ls', ...scope]);
    assert.equal(works.code, 0, works.err);
    assert.match(works.out, /sample1\.txt/);
    assert.deepEqual(works.urls, [], 'the refresh token served: no browser');
    assert.equal(decodeProtectedHeader(storedToken()).typ, 'at+jwt');
    console.log(`# DCR sign-in ${signedIn.ms} ms; ls after the at+jwt switch ${works.ms} ms`);
  });

  it('the registered client is kept per issuer: after logout the next sign-in uses it, registering nothing', async () => {
    const before = await registered();
    const client = before.find((c) => c.optionalClientScopes?.includes('mcp-server-audience'));
    const env = { XDG_CONFIG_HOME: home, SERVER_URL: server.url.replace(/^ws/, 'http'), OAUTH_RESOURCE: TEST_RESOURCE };
    const io = { out: () => {}, err: () => {}, bytes: () => {} };
    assert.equal(await main(['logout'], env, io), 0);
    const again = await run(['ls', '--scope', 'file.list file.read mcp-server-audience']);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /sample1\.txt/);
    assert.equal(again.urls.length, 1, 'signed in again in the browser');
    const url = again.urls[0] as URL;
    assert.equal(url.searchParams.get('client_id'), client?.clientId, 'with the kept client');
    assert.equal((await registered()).length, before.length, 'no registration');
    // The loopback port is new each time: the port-less registered URI admits it (RFC 8252 §7.3).
    const ports = (client?.redirectUris ?? []).map((u) => new URL(u).port);
    assert.ok(!ports.includes(new URL(url.searchParams.get('redirect_uri') as string).port), 'another port');
    console.log(`# sign-in again with the kept client: ${again.ms} ms`);
  });

  it('a host that registers without scope gets the realm defaults only: asking for the server’s is invalid_scope', async () => {
    // As Claude Code registers (no RFC 7591 scope); the host is trusted (above).
    const res = await fetch(`${realm.issuer}/clients-registrations/openid-connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(res.status, 201);
    const { client_id: clientId } = (await res.json()) as { client_id: string };
    const auth = new URL(`${realm.issuer}/protocol/openid-connect/auth`);
    auth.search = new URLSearchParams({
      client_id: clientId,
      redirect_uri: 'http://127.0.0.1:9/callback',
      response_type: 'code',
      scope: 'file.list',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      resource: TEST_RESOURCE,
    }).toString();
    const answer = await fetch(auth, { redirect: 'manual' });
    const back = new URL(answer.headers.get('location') ?? '');
    assert.equal(answer.status, 302);
    assert.equal(back.searchParams.get('error'), 'invalid_scope');
    assert.equal(back.searchParams.get('error_description'), 'Invalid scopes: file.list');
  });
});
