// Interop with a client nobody here wrote: the MCP Python SDK 2.x `Client` (PyPI `mcp`, pinned in
// tests/support/python-venv.ts) in modern mode (2026-07-28: no initialize, the version in every
// request) over Streamable HTTP with a real Keycloak token, driving tests/interop/python_client.py.
// The venv is created by the test on first use and cached, so the first run takes ~30 s longer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createLogger, loadConfig, type ServerHandle, startServer } from '../../mcp-server/src/index.ts';
import { keycloak } from '../support/keycloak.ts';
import { PYTHON_MCP_VERSION, pythonWithMcp } from '../support/python-venv.ts';

const kc = keycloak();
const DATA = path.resolve(import.meta.dirname, '../../data');
const SCRIPT = path.resolve(import.meta.dirname, '../interop/python_client.py');
const run = promisify(execFile);

/** What python_client.py prints. */
interface Outcome {
  protocolVersion: string;
  tools: string[];
  /** read-file's outcome: its text blocks (the file's text first)... */
  read?: { isError: boolean; texts: string[] };
  /** ...or the MCP error the SDK raised, with the HTTP refusals the server answered. */
  refused?: { code: number; message: string; http: { status: number; challenge: string | null }[] };
}

describe(`Python SDK ${PYTHON_MCP_VERSION} Client against the server`, () => {
  let server: ServerHandle;
  let python: string;
  before(async () => {
    // Tokens requested without resource: aud is the client id mcp-server (compatibility audience).
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      TARGET_DIR: DATA,
      OAUTH_ISSUER: kc.issuer,
      OAUTH_AUDIENCE: 'mcp-server',
    });
    server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
    await server.ready;
    python = await pythonWithMcp();
  });
  after(() => server.close());

  /** Runs the Python client with `token` in its environment (not its argv). */
  async function pythonClient(mode: string, token: string): Promise<Outcome> {
    const env = { PATH: process.env.PATH ?? '', MCP_TOKEN: token };
    try {
      const { stdout } = await run(python, [SCRIPT, server.httpUrl, mode, 'sample1.txt'], { env, timeout: 60_000 });
      return JSON.parse(stdout) as Outcome;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`python_client.py failed: ${(e.stderr ?? '').slice(-3000) || e.message}`);
    }
  }

  it('in 2026-07-28 mode over Streamable HTTP: lists tools and reads a file', async () => {
    const outcome = await pythonClient('2026-07-28', await kc.token('full'));
    assert.equal(outcome.protocolVersion, '2026-07-28');
    assert.deepEqual(outcome.tools.sort(), ['list-files', 'read-file']);
    assert.equal(outcome.read?.isError, false, JSON.stringify(outcome));
    assert.equal(outcome.read?.texts[0], readFileSync(path.join(DATA, 'sample1.txt'), 'utf8'));
  });

  it('in auto mode (server/discover first) over Streamable HTTP: settles on 2026-07-28', async () => {
    const outcome = await pythonClient('auto', await kc.token('full'));
    assert.equal(outcome.protocolVersion, '2026-07-28');
    assert.deepEqual(outcome.tools.sort(), ['list-files', 'read-file']);
    assert.equal(outcome.read?.texts[0], readFileSync(path.join(DATA, 'sample1.txt'), 'utf8'));
  });

  it('in 2026-07-28 mode with a token without file.read: lists only list-files, read-file refused with 403 insufficient_scope', async () => {
    const outcome = await pythonClient('2026-07-28', await kc.token('lister', 'file.list'));
    assert.equal(outcome.protocolVersion, '2026-07-28');
    assert.deepEqual(outcome.tools, ['list-files']);
    // The server's step-up refusal (403 insufficient_scope naming file.read); SDK 2.3.0 surfaces it
    // as a generic error, so the script records what came over the wire.
    const http = outcome.refused?.http ?? [];
    assert.equal(http.length, 1, JSON.stringify(outcome));
    assert.equal(http[0]?.status, 403);
    assert.match(http[0]?.challenge ?? '', /^Bearer error="insufficient_scope", .*scope="file\.read"/);
  });
});
