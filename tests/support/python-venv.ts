// A Python virtualenv with the MCP Python SDK, for interop tests: created on first use with
// `python3 -m venv` and pip from PyPI, then cached under ~/.cache (XDG_CACHE_HOME) keyed by the
// pinned SDK version, so later runs start at once. Built in a private directory and renamed into
// place when complete: concurrent test processes never see a half-installed venv, and the loser of
// a race discards its copy. A missing python3, venv module or registry fails the test with the
// tool's own message (CI installs python3-venv in .ci/run).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The MCP Python SDK release the interop tests pin (PyPI `mcp`). */
export const PYTHON_MCP_VERSION = '2.3.0';

/** Where the venv for `version` lives. */
export function venvDir(version: string = PYTHON_MCP_VERSION): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cache, 'mcp-ws-keycloak', `python-mcp-${version}`);
}

/** The venv's interpreter (the venv is found from this path, so the rename keeps it working). */
function python(dir: string): string {
  return join(dir, 'bin', 'python');
}

async function step(file: string, args: string[], what: string): Promise<void> {
  try {
    await run(file, args, { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${what} failed: ${(e.stderr ?? '').trim().slice(-2000) || e.message}`);
  }
}

/**
 * The path of a Python interpreter that can `import mcp` at the pinned version, creating the
 * cached venv when needed (about 30 s the first time).
 * @throws when python3, its venv module or pip cannot produce one.
 */
export async function pythonWithMcp(version: string = PYTHON_MCP_VERSION): Promise<string> {
  const dir = venvDir(version);
  if (existsSync(join(dir, 'ready'))) return python(dir);
  mkdirSync(join(dir, '..'), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await step('python3', ['-m', 'venv', tmp], 'python3 -m venv (install python3-venv)');
    const pip = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', `mcp==${version}`];
    await step(python(tmp), pip, `pip install mcp==${version}`);
    await step(python(tmp), ['-c', 'import mcp, httpx2'], 'import mcp');
    writeFileSync(join(tmp, 'ready'), `mcp==${version}\n`);
    if (!existsSync(join(dir, 'ready'))) {
      rmSync(dir, { recursive: true, force: true }); // a leftover without its ready mark
      renameSync(tmp, dir);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return python(dir);
}
