// A command run with `--login` against the real server and Keycloak, in a real browser (Debian
// Chromium driven by playwright-core): the first request goes without a token, the server's 401
// challenge leads the CLI to the realm through the server's metadata, the browser sign-in
// (PKCE, state, RFC 9207 iss, resource) completes on Keycloak's pages, and the request is sent
// again with the token. The challenge names what the request needs (file.list); `cat` then meets
// 403 insufficient_scope file.read and steps up: a second sign-in asking for both, after which the
// stored sign-in serves without a browser. A member of the list-only group steps up once too, is
// still refused file.read, and the CLI stops there (exit 3 naming the scope) instead of looping.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, loadConfig, type ServerHandle, startServer } from 'mcp-server';
import type { Browser } from 'playwright-core';
import { main } from '../../mcp-client/src/cli.ts';
import { acceptKeycloakConsent, freshPage, launchBrowser, submitKeycloakLogin } from '../support/browser.ts';
import { keycloak, TEST_RESOURCE } from '../support/keycloak.ts';

const kc = keycloak();
/** Demo users of the realm (development passwords, keycloak/realm-export.json). */
const ALICE = { username: 'alice', password: 'alice-dev-password' };
const BOB = { username: 'bob', password: 'bob-dev-password' };

describe('a command signs a person in when the server asks (--login)', () => {
  let server: ServerHandle;
  let browser: Browser;
  let serverUrl: string;
  const homes: string[] = [];

  before(async () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      OAUTH_ISSUER: kc.issuer,
      TARGET_DIR: 'data',
      PUBLIC_URL: TEST_RESOURCE,
    });
    server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
    await server.ready;
    serverUrl = server.url.replace(/^ws/, 'http');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });

  /**
   * Runs the CLI with `argv`; each authorization URL it prints is opened in the browser, where
   * `who` signs in (and consents when asked). Resolves with the exit code, the output and the URLs.
   */
  async function run(argv: string[], home: string, who: { username: string; password: string }) {
    const out: string[] = [];
    const err: string[] = [];
    const urls: URL[] = [];
    const signIns: Promise<void>[] = [];
    const signIn = async (url: URL) => {
      const page = await freshPage(browser);
      try {
        await page.goto(url.href);
        await page.locator('#username').waitFor();
        await submitKeycloakLogin(page, who.username, who.password);
        const signedIn = page.getByText('You can close this window');
        await acceptKeycloakConsent(page, signedIn, undefined);
        await signedIn.waitFor();
      } finally {
        await page.context().close();
      }
    };
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
    const env = { XDG_CONFIG_HOME: home, SERVER_URL: serverUrl, OAUTH_RESOURCE: TEST_RESOURCE };
    const code = await main([...argv, '--login', '--no-browser', '--timeout', '90'], env, io);
    await Promise.all(signIns);
    return { code, out: out.join('\n'), err: err.join('\n'), urls };
  }

  function home(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcp-on-demand-'));
    homes.push(dir);
    return dir;
  }

  it('alice: ls signs her in through the server challenge; cat steps up; then no browser', async () => {
    const dir = home();
    const ls = await run(['ls'], dir, ALICE);
    assert.equal(ls.code, 0, ls.err);
    assert.match(ls.out, /sample1\.txt/);
    assert.equal(ls.urls.length, 1, 'one sign-in');
    const first = ls.urls[0] as URL;
    assert.equal(first.searchParams.get('client_id'), 'mcp-cli');
    assert.equal(first.searchParams.get('resource'), TEST_RESOURCE);
    assert.equal(first.searchParams.get('scope'), 'file.list', "the challenge's scope");
    assert.equal(readdirSync(path.join(dir, 'mcp-client', 'logins')).length, 1, 'the sign-in is stored');

    const cat = await run(['cat', 'sample1.txt'], dir, ALICE);
    assert.equal(cat.code, 0, cat.err);
    assert.equal(cat.out, readFileSync('data/sample1.txt', 'utf8'));
    assert.equal(cat.urls.length, 1, 'one step-up');
    assert.equal(cat.urls[0]?.searchParams.get('scope'), 'file.list file.read', 'the union of the scopes');

    const again = await run(['cat', 'sample2.txt'], dir, ALICE);
    assert.equal(again.code, 0, again.err);
    assert.equal(again.urls.length, 0, 'the stepped-up sign-in serves without a browser');
  });

  it('bob: steps up once, is still refused file.read, and stops: exit 3 naming the scope', async () => {
    const cat = await run(['cat', 'sample1.txt'], home(), BOB);
    assert.equal(cat.code, 3, cat.err);
    assert.deepEqual(
      cat.urls.map((u) => u.searchParams.get('scope')),
      ['file.list', 'file.list file.read'],
      'no third sign-in for a scope already asked for',
    );
    assert.match(cat.err, /needs scope file\.read/);
  });
});
