// Runs the official MCP conformance suite (server and client mode) through tests/conformance/run.ts,
// which compares the results with tests/conformance/*-baseline.yml. Needs no Keycloak (the server
// verifies tokens of a local issuer); needs @modelcontextprotocol/conformance installed (root
// devDependency) or npx access to the registry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { it } from 'node:test';

const run = path.resolve(import.meta.dirname, '../conformance/run.ts');

it('passes the MCP conformance suite except the baselined scenarios', { timeout: 600_000 }, () => {
  const r = spawnSync(process.execPath, ['--conditions=development', run, 'all'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
});
