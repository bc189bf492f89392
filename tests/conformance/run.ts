// Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned) against this
// repo, once per specification revision, with exactly the scenarios that revision requires
// (`--requirements`, the suite's frozen requirement sets):
//   node --conditions=development tests/conformance/run.ts [server|client|all] [--revision <r>] [--baseline <file>]
// (default: all modes, both revisions 2025-11-25 and 2026-07-28; --baseline needs one --revision).
// Server mode: the real server with real token verification (server-under-test.ts). Client mode:
// the mcp-client CLI via client-command.ts. Failures are compared with baseline-<revision>.yml by
// the suite itself (--expected-failures) and again here from the saved checks.json files: an
// unexpected failure, a stale baseline entry (the scenario now passes) or a baseline entry that was
// never run (renamed or unknown scenario) exits non-zero, and each is printed on a
// `# conformance <revision> <mode>:` line, followed by the counts (passed / baselined / failed).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { conformanceSuite } from '../support/conformance-suite.ts';
import {
  baselineEntries,
  baselineProblems,
  countResults,
  formatCounts,
  type Mode,
  type Results,
  scenarioResults,
  sectionEntries,
} from './baseline.ts';
import { startServerUnderTest } from './server-under-test.ts';

/** The suite version the baselines were written against (installed into ~/.cache: tests/support/conformance-suite.ts). */
export const CONFORMANCE_VERSION = '0.2.0-alpha.12';
/** The revisions this repo claims, each run at its own wire (initialize handshake vs stateless `_meta`). */
export const REVISIONS = ['2025-11-25', '2026-07-28'] as const;
export type Revision = (typeof REVISIONS)[number];

const here = import.meta.dirname;
const repo = resolve(here, '../..');
// Resolved (and installed on first use) before anything runs: see the main block.
let suiteDir = '';

function runSuite(args: string[], output: string): Promise<number> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(suiteDir, 'dist/index.js'), ...args, '-o', output], {
      stdio: 'inherit',
      cwd: repo,
    });
    child.on('close', (code) => done(code ?? 1));
  });
}

/** The scenarios `revision` scores for `mode` (the rest of a run is reported but not scored). */
function scored(revision: Revision, mode: Mode): Set<string> {
  return new Set(sectionEntries(join(suiteDir, 'requirements', `${revision}.yaml`), mode));
}

/** Prints the verdict of one run; returns the exit code (non-zero when the suite or the comparison failed). */
function verdict(
  revision: Revision,
  mode: Mode,
  suiteCode: number,
  results: Results,
  baseline: readonly string[],
): number {
  const tag = `# conformance ${revision} ${mode}:`;
  const problems = baselineProblems(results, baseline);
  for (const p of problems) console.log(`${tag} ${p}`);
  if (results.size === 0) console.log(`${tag} NO RESULTS (the suite saved no checks.json)`);
  const code = suiteCode !== 0 || problems.length > 0 || results.size === 0 ? 1 : 0;
  const all = formatCounts(countResults(results, baseline));
  const required = formatCounts(countResults(results, baseline, scored(revision, mode)));
  console.log(`${tag} ${results.size} scenarios (${all}; scored by the revision: ${required})`);
  console.log(`${tag} ${code === 0 ? 'as expected' : `FAILED (suite exit ${suiteCode})`}`);
  return code;
}

async function serverMode(revision: Revision, output: string, baseline: string): Promise<number> {
  const expected = baselineEntries(baseline, 'server');
  const server = await startServerUnderTest();
  try {
    const args = ['server', '--url', server.url, '--requirements', revision, '--expected-failures', baseline];
    const code = await runSuite(args, output);
    return verdict(revision, 'server', code, scenarioResults(output, /^server-/), expected);
  } finally {
    await server.close();
  }
}

async function clientMode(revision: Revision, output: string, baseline: string): Promise<number> {
  const expected = baselineEntries(baseline, 'client');
  const command = `${process.execPath} --conditions=development ${join(here, 'client-command.ts')}`;
  const args = ['client', '--command', command, '--requirements', revision, '--expected-failures', baseline];
  const code = await runSuite(args, output);
  return verdict(revision, 'client', code, scenarioResults(output), expected);
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** The installed suite's version; the baselines were written against {@link CONFORMANCE_VERSION} only. */
function installedVersion(): string {
  return (JSON.parse(readFileSync(join(suiteDir, 'package.json'), 'utf8')) as { version: string }).version;
}

if (import.meta.main) {
  suiteDir = await conformanceSuite(CONFORMANCE_VERSION);
  if (installedVersion() !== CONFORMANCE_VERSION) {
    console.error(
      `conformance ${installedVersion()} is installed in ${suiteDir}; the baselines are for ${CONFORMANCE_VERSION}`,
    );
    process.exit(2);
  }
  const mode = process.argv[2]?.startsWith('--') ? 'all' : (process.argv[2] ?? 'all');
  const revision = option('--revision');
  const baseline = option('--baseline');
  if (!['server', 'client', 'all'].includes(mode)) {
    console.error(`unknown mode "${mode}": use server, client or all`);
    process.exit(2);
  }
  if (revision !== undefined && !(REVISIONS as readonly string[]).includes(revision)) {
    console.error(`unknown revision "${revision}": use one of ${REVISIONS.join(', ')}`);
    process.exit(2);
  }
  if (baseline !== undefined && revision === undefined) {
    console.error('--baseline applies to one revision: add --revision');
    process.exit(2);
  }
  const output = mkdtempSync(join(tmpdir(), 'conformance-results-'));
  // Every run reports its own problems; any failing fails the whole.
  let code = 0;
  for (const r of REVISIONS) {
    if (revision !== undefined && r !== revision) continue;
    const file = baseline === undefined ? join(here, `baseline-${r}.yml`) : resolve(baseline);
    for (const m of ['server', 'client'] as const) {
      if (mode !== m && mode !== 'all') continue;
      const dir = join(output, r, m);
      mkdirSync(dir, { recursive: true });
      code = (m === 'server' ? await serverMode(r, dir, file) : await clientMode(r, dir, file)) || code;
    }
  }
  console.log(`# conformance ${mode}: ${code === 0 ? 'as expected' : 'UNEXPECTED FAILURES'} (results in ${output})`);
  process.exit(code);
}
