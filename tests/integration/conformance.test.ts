// Runs the official MCP conformance suite (0.2.0-alpha.12, server and client mode) once per
// specification revision the repo claims (2025-11-25, 2026-07-28), through tests/conformance/run.ts, which compares the
// results with tests/conformance/baseline-<revision>.yml. Needs no Keycloak (the server verifies
// tokens of a local issuer); the runner installs the pinned suite into ~/.cache on first use
// (tests/support/conformance-suite.ts). A run with a tampered baseline proves the runner fails
// on each kind of drift (unexpected failure, stale entry, entry never run) instead of passing quietly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { baselineEntries, sectionEntries } from '../conformance/baseline.ts';
import { CONFORMANCE_VERSION } from '../conformance/run.ts';
import { conformanceSuite } from '../support/conformance-suite.ts';

const dir = path.resolve(import.meta.dirname, '../conformance');
const run = path.join(dir, 'run.ts');

interface Run {
  status: number | null;
  verdict: string;
  tail: string;
}

function conformance(...args: string[]): Promise<Run> {
  const child = spawn(process.execPath, ['--conditions=development', run, ...args], { timeout: 280_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  return new Promise((resolve) =>
    child.on('close', (status) => {
      const verdict = stdout
        .split('\n')
        .filter((l) => l.startsWith('# conformance'))
        .join('\n');
      resolve({ status, verdict, tail: `${stdout.slice(-3000)}\n${stderr.slice(-3000)}` });
    }),
  );
}

/** The runs this repo passes: each revision's requirements, server and client mode. */
const RUNS: [revision: string, mode: 'server' | 'client'][] = [
  ['2025-11-25', 'server'],
  ['2025-11-25', 'client'],
  ['2026-07-28', 'server'],
  ['2026-07-28', 'client'],
];

for (const [revision, mode] of RUNS) {
  it(`passes the ${revision} requirements of the MCP conformance suite in ${mode} mode except the baselined scenarios`, {
    timeout: 300_000,
  }, async (t) => {
    const r = await conformance(mode, '--revision', revision);
    // The counts line goes to the test output (scenarios passed / baselined / failed).
    for (const line of r.verdict.split('\n').filter((l) => l.includes(' scenarios ('))) t.diagnostic(line);
    // The `# conformance` lines name each unexpected failure, stale entry and entry never run.
    assert.equal(r.status, 0, `${r.verdict}\n--- output tail ---\n${r.tail}`);
    assert.match(r.verdict, new RegExp(`# conformance ${revision} ${mode}: as expected`));
  });
}

it('fails on a stale, missing or unknown baseline entry', { timeout: 300_000 }, async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'conformance-baseline-'));
  try {
    const baseline = readFileSync(path.join(dir, 'baseline-2025-11-25.yml'), 'utf8');
    assert.match(baseline, /^ {2}- prompts-list /m);
    const tampered = path.join(tmp, 'baseline.yml');
    writeFileSync(
      tampered,
      baseline
        .replace(/^ {2}- prompts-list .*\n/m, '')
        .replace(/^client:\n/m, '  - ping # passes\n  - no-such-scenario\nclient:\n'),
    );
    const r = await conformance('server', '--revision', '2025-11-25', '--baseline', tampered);
    assert.notEqual(r.status, 0, r.tail);
    assert.match(r.verdict, /UNEXPECTED FAILURE prompts-list/);
    assert.match(r.verdict, /STALE BASELINE ENTRY ping/);
    assert.match(r.verdict, /BASELINE ENTRY NOT RUN no-such-scenario/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

it('fails on a stale, missing or unknown per-check baseline entry', { timeout: 300_000 }, async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'conformance-baseline-'));
  try {
    const baseline = readFileSync(path.join(dir, 'baseline-2026-07-28.yml'), 'utf8');
    const logCheck = /^ {2}- server-stateless:sep-2575-server-no-log-without-loglevel .*\n/m;
    assert.match(baseline, logCheck);
    const extra = '  - server-stateless:sep-2575-server-implements-discover\n  - tools-list:no-such-check\n';
    const tampered = path.join(tmp, 'baseline.yml');
    writeFileSync(tampered, baseline.replace(logCheck, '').replace(/^client:\n/m, `${extra}client:\n`));
    const r = await conformance('server', '--revision', '2026-07-28', '--baseline', tampered);
    assert.notEqual(r.status, 0, r.tail);
    assert.match(r.verdict, /UNEXPECTED FAILURE server-stateless \(sep-2575-server-no-log-without-loglevel;/);
    assert.match(r.verdict, /STALE BASELINE ENTRY server-stateless:sep-2575-server-implements-discover/);
    assert.match(r.verdict, /BASELINE ENTRY NOT RUN tools-list:no-such-check/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

it('excuses no scored authorization scenario in client mode: only the extensions stay baselined', async () => {
  const suite = await conformanceSuite(CONFORMANCE_VERSION);
  for (const revision of ['2025-11-25', '2026-07-28'] as const) {
    const scored = new Set(sectionEntries(path.join(suite, 'requirements', `${revision}.yaml`), 'client'));
    const baselinedAuth = baselineEntries(path.join(dir, `baseline-${revision}.yml`), 'client')
      .map((entry) => entry.split(':')[0] as string)
      .filter((scenario) => scenario.startsWith('auth/'));
    assert.deepEqual(
      baselinedAuth.filter((scenario) => scored.has(scenario)),
      [],
      `${revision}: a scored auth scenario is baselined`,
    );
    assert.ok(baselinedAuth.length > 0, `${revision}: the extension scenarios are still listed with their reasons`);
  }
});
