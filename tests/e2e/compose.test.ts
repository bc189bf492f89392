// End to end: the user's `docker compose up` with the repository's compose.yaml — Keycloak imports
// the realm, the server becomes ready, the demo client runs its four steps and exits 0 — then
// `run --rm mcp-client ls` / `cat`, and `down -v` leaves nothing behind.
// Images: KEYCLOAK_IMAGE / NODE_IMAGE (stand-ins in CI), else the official ones.
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const project = `mcpe2e${process.pid}`;
// A non-default secret proves the realm import substitutes ${OAUTH_CLIENT_SECRET:...}.
const secret = randomBytes(18).toString('base64url');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

let env: NodeJS.ProcessEnv = process.env;

function compose(args: string[], timeoutMs = 600_000): SpawnSyncReturns<string> {
  const res = spawnSync('docker', ['compose', '-p', project, ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error) throw res.error;
  return res;
}

function must(res: SpawnSyncReturns<string>, what: string): string {
  assert.equal(res.status, 0, `${what} failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

function projectObjects(): string {
  const label = `label=com.docker.compose.project=${project}`;
  const run = (args: string[]) => spawnSync('docker', args, { encoding: 'utf8' }).stdout.trim();
  return [
    run(['ps', '-aq', '--filter', label]),
    run(['volume', 'ls', '-q', '--filter', label]),
    run(['network', 'ls', '-q', '--filter', label]),
  ]
    .filter(Boolean)
    .join('\n');
}

describe('docker compose up', { timeout: 900_000 }, () => {
  before(async () => {
    env = {
      ...process.env,
      KEYCLOAK_PORT: String(await freePort()),
      MCP_PORT: String(await freePort()),
      OAUTH_CLIENT_SECRET: secret,
    };
  });

  after(() => {
    compose(['down', '-v', '--remove-orphans', '--timeout', '5']);
  });

  it('builds the images', () => {
    must(compose(['build']), 'docker compose build');
  });

  it('brings the stack up and the demo client succeeds', async () => {
    must(compose(['up', '-d']), 'docker compose up -d');
    const deadline = Date.now() + 300_000;
    let state = '';
    while (Date.now() < deadline) {
      const id = compose(['ps', '-q', 'mcp-client']).stdout.trim();
      state = id
        ? spawnSync('docker', ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id], {
            encoding: 'utf8',
          }).stdout.trim()
        : '';
      if (state.startsWith('exited')) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const logs = compose(['logs', '--no-color', 'mcp-client']).stdout;
    assert.equal(
      state,
      'exited 0',
      `demo client did not exit 0 (${state}):\n${logs}\n${compose(['logs', '--no-color', '--tail', '40']).stdout}`,
    );
    assert.match(logs, /sample1\.txt/);
    assert.match(logs, /Hello from sample1\.txt!/);
    assert.match(logs, /Hello from sample2\.txt!/);
    assert.ok(!logs.includes(secret), 'the client secret must never be printed');
  });

  it('serves `run --rm mcp-client ls` and `cat sample1.txt`', () => {
    const ls = must(compose(['run', '--rm', '--no-deps', 'mcp-client', 'ls']), 'run mcp-client ls');
    assert.match(ls, /sample1\.txt/);
    assert.match(ls, /sample2\.txt/);
    const cat = must(compose(['run', '--rm', '--no-deps', 'mcp-client', 'cat', 'sample1.txt']), 'run mcp-client cat');
    assert.match(cat, /Hello from sample1\.txt!/);
  });

  it('publishes the same issuer to the host as to the containers', async () => {
    const meta = (await (
      await fetch(`http://127.0.0.1:${env.MCP_PORT}/.well-known/oauth-protected-resource/mcp`)
    ).json()) as {
      authorization_servers: string[];
    };
    assert.deepEqual(meta.authorization_servers, [`http://localhost:${env.KEYCLOAK_PORT}/realms/mcp`]);
    const oidc = (await (
      await fetch(`http://127.0.0.1:${env.KEYCLOAK_PORT}/realms/mcp/.well-known/openid-configuration`)
    ).json()) as {
      issuer: string;
    };
    assert.equal(oidc.issuer, meta.authorization_servers[0]);
  });

  it('`down -v` leaves nothing behind', () => {
    must(compose(['down', '-v', '--remove-orphans', '--timeout', '5']), 'docker compose down -v');
    assert.equal(projectObjects(), '');
  });
});
