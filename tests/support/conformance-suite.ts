// The official MCP conformance suite (@modelcontextprotocol/conformance), installed on first use
// into ~/.cache (XDG_CACHE_HOME) keyed by its pinned version, like the Python venv of the interop
// tests. It stays out of this repository's dependency tree on purpose: the suite's harness depends
// on SDK v1 (@modelcontextprotocol/sdk), which the product no longer uses, and keeping it out of
// node_modules means an accidental SDK v1 import in our code fails to resolve instead of passing.
// Built in a private directory and renamed into place when complete, so concurrent test processes
// never see a half-installed suite.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PACKAGE = '@modelcontextprotocol/conformance';

/** Where the suite of `version` is installed (its package directory is under node_modules). */
function installDir(version: string): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cache, 'mcp-ws-keycloak', `conformance-${version}`);
}

/**
 * The package directory of the conformance suite at exactly `version`, installing it from the
 * npm registry when it is not cached yet (~10 s).
 * @throws when npm cannot install it (the message is npm's own).
 */
export async function conformanceSuite(version: string): Promise<string> {
  const dir = installDir(version);
  const pkg = (root: string) => join(root, 'node_modules', ...PACKAGE.split('/'));
  if (existsSync(join(dir, 'ready'))) return pkg(dir);
  mkdirSync(join(dir, '..'), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'package.json'), '{"private":true}\n');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const args = ['install', '--no-audit', '--no-fund', '--loglevel=error', '--save-exact', `${PACKAGE}@${version}`];
    try {
      await run(npm, args, { cwd: tmp, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`npm install ${PACKAGE}@${version} failed: ${(e.stderr ?? '').trim().slice(-2000) || e.message}`);
    }
    writeFileSync(join(tmp, 'ready'), `${PACKAGE}@${version}\n`);
    if (!existsSync(join(dir, 'ready'))) {
      rmSync(dir, { recursive: true, force: true }); // a leftover without its ready mark
      renameSync(tmp, dir);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return pkg(dir);
}
