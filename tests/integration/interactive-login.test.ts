// People sign in through Keycloak's real pages in a real browser (Debian Chromium driven by
// playwright-core): `mcp-client login` (authorization code + PKCE, loopback redirect, state and
// RFC 9207 iss checked), `login --device` (RFC 8628) approved in the browser while the CLI polls,
// then `ls`/`cat` act as that person over Streamable HTTP; a member of the list-only group can list
// but not read (403 insufficient_scope -> the CLI names the scope and the sign-in to run); the
// stored tokens are 0600 and refreshed with rotation; `logout` revokes (introspection: inactive).
// Screenshots of the login, consent and device pages go to test-results/interactive-login/.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createLogger, loadConfig, type ServerHandle, startServer } from 'mcp-server';
import type { Browser, Page } from 'playwright-core';
import { main } from '../../mcp-client/src/cli.ts';
import type { StoredLogin } from '../../mcp-client/src/login/token-store.ts';
import {
  acceptKeycloakConsent,
  freshPage,
  launchBrowser,
  screenshot,
  submitKeycloakLogin,
} from '../support/browser.ts';
import { keycloak, TEST_RESOURCE } from '../support/keycloak.ts';
import { INTROSPECTION_CLIENT } from '../support/revocation.ts';

const kc = keycloak();
/** Demo users of the realm (development passwords, keycloak/realm-export.json). */
const ALICE = { username: 'alice', password: 'alice-dev-password' };
const BOB = { username: 'bob', password: 'bob-dev-password' };

/** One CLI run in this process, with its output and a hook on the lines it writes to stderr. */
interface CliRun {
  readonly done: Promise<number>;
  readonly out: string[];
  readonly err: string[];
  /** Resolves with the first stderr match of `re`. */
  waitFor(re: RegExp): Promise<RegExpExecArray>;
}

function runCli(argv: string[], env: Record<string, string>): CliRun {
  const out: string[] = [];
  const err: string[] = [];
  const waiters: { re: RegExp; resolve(m: RegExpExecArray): void }[] = [];
  const io = {
    out: (t: string) => void out.push(t),
    err: (t: string) => {
      err.push(t);
      for (const w of waiters) {
        const m = w.re.exec(t);
        if (m) w.resolve(m);
      }
    },
    bytes: (b: Buffer) => void out.push(b.toString('utf8')),
  };
  const done = main(argv, env, io);
  return {
    done,
    out,
    err,
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        for (const line of err) {
          const m = re.exec(line);
          if (m) return resolve(m);
        }
        waiters.push({ re, resolve });
        // The run ending first means the prompt never came: fail with what it said.
        done.then((code) => reject(new Error(`the CLI ended (exit ${code}) without ${re}: ${err.join('\n')}`)));
      }),
  };
}

async function introspect(token: string): Promise<boolean> {
  const res = await fetch(`${kc.issuer}/protocol/openid-connect/token/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      token,
      client_id: INTROSPECTION_CLIENT.clientId,
      client_secret: INTROSPECTION_CLIENT.clientSecret,
    }),
  });
  return ((await res.json()) as { active: boolean }).active;
}

/** The one sign-in stored under `configHome`, its file and the modes of file and directory. */
function storedLogin(configHome: string): { login: StoredLogin; file: string; mode: number; dirMode: number } {
  const dir = path.join(configHome, 'mcp-client', 'logins');
  const names = readdirSync(dir);
  assert.equal(names.length, 1, `one stored sign-in, found ${names.join(', ')}`);
  const file = path.join(dir, names[0] as string);
  return {
    login: JSON.parse(readFileSync(file, 'utf8')) as StoredLogin,
    file,
    mode: statSync(file).mode & 0o777,
    dirMode: statSync(dir).mode & 0o777,
  };
}

describe('people sign in through Keycloak in a real browser', () => {
  let server: ServerHandle;
  let browser: Browser;
  let serverUrl: string;
  const homes: string[] = [];
  const logs: Record<string, unknown>[] = [];

  /** A person's environment: their own config directory, the server, nothing else. */
  function person(): Record<string, string> {
    const home = mkdtempSync(path.join(tmpdir(), 'mcp-login-'));
    homes.push(home);
    return { XDG_CONFIG_HOME: home, SERVER_URL: serverUrl, OAUTH_RESOURCE: TEST_RESOURCE };
  }

  /** `mcp-client login` with the browser flow, the person typing their password on Keycloak's page. */
  async function browserLogin(
    env: Record<string, string>,
    who: { username: string; password: string },
    shots?: string,
  ): Promise<CliRun & { consented: boolean }> {
    const run = runCli(['login', '--no-browser', '--timeout', '90'], env);
    const [url] = await run.waitFor(/^https?:\/\/\S+$/m);
    const page = await freshPage(browser);
    let consented = false;
    try {
      await page.goto(url);
      await page.locator('#username').waitFor();
      if (shots) await screenshot(page, `${shots}-login-page`);
      await submitKeycloakLogin(page, who.username, who.password);
      const signedIn = page.getByText('You can close this window');
      // Keycloak asks for consent once per person and client.
      consented = await acceptKeycloakConsent(page, signedIn, shots && `${shots}-consent-page`);
      await signedIn.waitFor();
      if (shots) await screenshot(page, `${shots}-redirected`);
    } finally {
      await page.context().close();
    }
    assert.equal(await run.done, 0, run.err.join('\n'));
    return { ...run, consented };
  }

  before(async () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      OAUTH_ISSUER: kc.issuer,
      TARGET_DIR: 'data',
      PUBLIC_URL: TEST_RESOURCE,
    });
    // Consent is remembered per person and client: start from none, so the consent page shows.
    const admin = await kc.admin();
    for (const username of [ALICE.username, BOB.username]) {
      const [user] = await admin.users.find({ username, exact: true });
      for (const clientId of ['mcp-cli', 'mcp-cli-device']) {
        await admin.users.revokeConsent({ id: user?.id as string, clientId }).catch(() => undefined);
      }
    }
    const destination = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
        done();
      },
    });
    server = await startServer(config, { logger: createLogger({ level: 'info', destination }) });
    await server.ready;
    serverUrl = server.url.replace(/^ws/, 'http');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });

  it('alice signs in on the real login page; ls and cat then act as her; tokens stored 0600', async () => {
    const env = person();
    const run = await browserLogin(env, ALICE, 'browser');
    assert.equal(run.consented, true, 'a first sign-in shows the consent page');
    assert.match(run.out.join('\n'), /Signed in as alice at .*\/realms\/mcp/);
    assert.match(run.out.join('\n'), /Scopes: .*file\.read/);
    const { login, mode, dirMode } = storedLogin(env.XDG_CONFIG_HOME as string);
    assert.equal(mode, 0o600);
    assert.equal(dirMode, 0o700);
    assert.equal(login.clientId, 'mcp-cli');
    assert.equal(login.resource, TEST_RESOURCE);
    const claims = decodeJwt(login.accessToken);
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(claims.aud, TEST_RESOURCE);
    assert.ok(!run.out.join('').includes(login.accessToken) && !run.err.join('').includes(login.accessToken));

    const ls = runCli(['ls'], env);
    assert.equal(await ls.done, 0, ls.err.join('\n'));
    assert.match(ls.out.join('\n'), /sample1\.txt/);
    const cat = runCli(['cat', 'sample1.txt'], env);
    assert.equal(await cat.done, 0, cat.err.join('\n'));
    assert.equal(cat.out.join(''), readFileSync('data/sample1.txt', 'utf8'));
    const audit = logs.find((l) => l.event === 'tool.call' && l.tool === 'read-file');
    assert.equal(audit?.user, 'alice', 'the audit line names the person');
    assert.equal(audit?.azp, 'mcp-cli');
    const who = runCli(['whoami', '--json'], env);
    assert.equal(await who.done, 0, who.err.join('\n'));
    assert.match(who.out.join(''), /"client": "mcp-cli"/);
    assert.match(who.out.join(''), /"user": "alice"/);
  });

  it('bob (list-only group) can list but not read: the CLI names file.read and the sign-in to run', async () => {
    const env = person();
    const run = await browserLogin(env, BOB);
    assert.match(run.out.join('\n'), /Not granted: file\.read/);
    const ls = runCli(['ls'], env);
    assert.equal(await ls.done, 0, ls.err.join('\n'));
    const cat = runCli(['cat', 'sample1.txt'], env);
    assert.equal(await cat.done, 3);
    const said = cat.err.join('\n');
    assert.match(said, /needs scope file\.read, which your sign-in as bob lacks/);
    assert.match(
      said,
      /mcp-client login --scope "file\.read file\.list"|mcp-client login --scope "file\.list file\.read"/,
    );
  });

  it('refreshes an expired access token with the refresh token, rotating it (the old one is refused)', async () => {
    const env = person();
    await browserLogin(env, ALICE);
    const home = env.XDG_CONFIG_HOME as string;
    const { login: before, file } = storedLogin(home);
    // As if the access token's lifetime had passed.
    writeFileSync(file, JSON.stringify({ ...before, expiresAt: Date.now() - 1000 }), { mode: 0o600 });
    const ls = runCli(['ls'], env);
    assert.equal(await ls.done, 0, ls.err.join('\n'));
    const { login: afterRefresh, mode } = storedLogin(home);
    assert.equal(mode, 0o600);
    assert.notEqual(afterRefresh.accessToken, before.accessToken);
    assert.notEqual(afterRefresh.refreshToken, before.refreshToken);
    const replay = await fetch(`${kc.issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'mcp-cli',
        refresh_token: before.refreshToken as string,
      }),
    });
    assert.equal(replay.status, 400);
    assert.equal(((await replay.json()) as { error: string }).error, 'invalid_grant');
  });

  it('device flow: the CLI polls while alice approves the code in the browser; logout revokes', async () => {
    const env = person();
    const run = runCli(['login', '--device', '--timeout', '90'], env);
    const [, verificationUri, userCode] = await run.waitFor(/open (\S+) and enter the code (\S+)/);
    const page: Page = await freshPage(browser);
    try {
      await page.goto(verificationUri as string);
      await page.locator('#device_user_code').fill(userCode as string);
      await screenshot(page, 'device-code-page');
      await page.locator('#kc-login').click();
      await page.locator('#username').waitFor();
      await submitKeycloakLogin(page, ALICE.username, ALICE.password);
      const approved = page.getByText(/device login successful|you may close|close this window/i).first();
      assert.equal(await acceptKeycloakConsent(page, approved, 'device-consent-page'), true, 'the device client asks');
      await approved.waitFor();
      await screenshot(page, 'device-approved');
    } finally {
      await page.context().close();
    }
    assert.equal(await run.done, 0, run.err.join('\n'));
    const { login } = storedLogin(env.XDG_CONFIG_HOME as string);
    assert.equal(login.clientId, 'mcp-cli-device');
    const ls = runCli(['ls'], env);
    assert.equal(await ls.done, 0, ls.err.join('\n'));

    assert.equal(await introspect(login.accessToken), true, 'active before logout');
    const out = runCli(['logout'], env);
    assert.equal(await out.done, 0, out.err.join('\n'));
    assert.match(out.out.join('\n'), /revoked/);
    assert.equal(await introspect(login.accessToken), false, 'inactive after logout');
    assert.equal(await introspect(login.refreshToken as string), false);
    assert.deepEqual(readdirSync(path.join(env.XDG_CONFIG_HOME as string, 'mcp-client', 'logins')), []);
    const after = runCli(['ls'], env);
    assert.equal(await after.done, 2);
    assert.match(after.err.join('\n'), /no credentials/);
  });
});
