// Runs the official MCP conformance suite (server and client mode) through tests/conformance/run.ts,
// which compares the results with tests/conformance/*-baseline.yml. Needs no Keycloak (the server
// verifies tokens of a local issuer); needs @modelcontextprotocol/conformance installed (root
// devDependency) or npx access to the registry. Takes ~10 s. A second run with a tampered server
// baseline proves the runner fails on each kind of drift (unexpected failure, stale entry, entry
// never run) instead of passing quietly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';

const dir = path.resolve(import.meta.dirname, '../conformance');
const run = path.join(dir, 'run.ts');

function conformance(...args: string[]): { status: number | null; verdict: string; tail: string } {
  const r = spawnSync(process.execPath, ['--conditions=development', run, ...args], {
    encoding: 'utf8',
    timeout: 170_000,
  });
  const verdict = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('# conformance'))
    .join('\n');
  return { status: r.status, verdict, tail: `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}` };
}

it('passes the MCP conformance suite except the baselined scenarios', { timeout: 180_000 }, () => {
  const r = conformance('all');
  // The `# conformance` lines name each unexpected failure, stale entry and entry never run.
  assert.equal(r.status, 0, `${r.verdict}\n--- output tail ---\n${r.tail}`);
  assert.match(r.verdict, /# conformance server: \d+ scenarios, as expected/);
  assert.match(r.verdict, /# conformance client: \d+ scenarios, as expected/);
});

it('fails on a stale, missing or unknown baseline entry', { timeout: 180_000 }, () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'conformance-baseline-'));
  try {
    const baseline = readFileSync(path.join(dir, 'server-baseline.yml'), 'utf8');
    assert.match(baseline, /^ {2}- prompts-list /m);
    const tampered = path.join(tmp, 'server-baseline.yml');
    writeFileSync(
      tampered,
      `${baseline.replace(/^ {2}- prompts-list .*\n/m, '')}  - ping # passes\n  - no-such-scenario\n`,
    );
    const r = conformance('server', '--server-baseline', tampered);
    assert.notEqual(r.status, 0, r.tail);
    assert.match(r.verdict, /UNEXPECTED FAILURE prompts-list/);
    assert.match(r.verdict, /STALE BASELINE ENTRY ping/);
    assert.match(r.verdict, /BASELINE ENTRY NOT RUN no-such-scenario/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
