// A real browser for the interactive sign-in tests: Debian's Chromium (installed by .ci/run)
// driven by playwright-core, with the flags a closed network needs (../shared/notes/browser-tests.md),
// and helpers that act as a person on Keycloak's real pages. Screenshots go to test-results/
// (git-ignored) for a reviewer to see what the person saw.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';

/** The Chromium binary: CHROMIUM_PATH, else Debian's. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where screenshots are written. */
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '../../test-results/interactive-login');

/**
 * How long a page action may take, in ms. Keycloak's pages on a busy CI machine: a first CIMD
 * sign-in's navigation (Keycloak fetches the document over TLS, registers the client, renders the
 * realm's first login page) took 2.2 s on an idle machine, 15 s in one CI run and over 20 s in
 * another, with another test file running beside it on two cores.
 */
const ACTION_TIMEOUT_MS = 60_000;

/** Launches headless Chromium once per test file; each sign-in uses its own context (fresh cookies). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 60_000,
    // Without the background-networking flags Chromium opens connections the closed network refuses.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A new page in a fresh context (no Keycloak session from an earlier sign-in). */
export async function freshPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  return context.newPage();
}

/** Saves a full-page PNG under test-results/interactive-login/; resolves to its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Fills Keycloak's login form and submits it. */
export async function submitKeycloakLogin(page: Page, username: string, password: string): Promise<void> {
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#kc-login').click();
}

/**
 * Waits for Keycloak's consent page or `done` (shown when consent was given before), accepts the
 * consent when asked (screenshotting it first when `shot` names a file); true when it was asked.
 */
export async function acceptKeycloakConsent(
  page: Page,
  done: Locator,
  shot?: string | undefined | '',
): Promise<boolean> {
  const accept = page.locator('[name="accept"]');
  await accept.or(done).first().waitFor();
  if (!(await accept.isVisible())) return false;
  if (shot) await screenshot(page, shot);
  await accept.click();
  return true;
}
