// Reading a conformance run: the scenarios a baseline or a requirement set names, the outcome of
// each scenario from the suite's checks.json files, and how a run compares with its baseline.
import { existsSync, globSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A conformance mode: the suite tests our server (`server`) or our client (`client`). */
export type Mode = 'server' | 'client';

/**
 * The list items of the top-level `mode:` section of a YAML file (a baseline or one of the suite's
 * requirements/<revision>.yaml), without comments. Only `- name` items count: the requirement
 * files' `not_scored` section (`- scenario: ...` mappings) lives under its own key.
 * @throws when the file is missing.
 */
export function sectionEntries(file: string, mode: Mode): string[] {
  if (!existsSync(file)) throw new Error(`conformance file ${file} is missing`);
  const out: string[] = [];
  let inMode = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\S/.test(line)) inMode = line.startsWith(`${mode}:`);
    const m = inMode ? /^\s+-\s+([^\s#]+)\s*(?:#.*)?$/.exec(line) : null;
    if (m) out.push(m[1]!);
  }
  return out;
}

/** The scenario names of `mode` in a baseline file. @throws when the file is missing or lists none. */
export function baselineEntries(file: string, mode: Mode): string[] {
  const out = sectionEntries(file, mode);
  if (out.length === 0) throw new Error(`conformance baseline ${file} lists no ${mode} scenarios`);
  return out;
}

/**
 * Outcome of each scenario run into `dir` (its checks.json files): true when it failed (FAILURE or
 * WARNING, as the suite counts). `prefix` is stripped from the directory name (server runs save
 * into `server-<scenario>-<timestamp>`).
 */
export function scenarioResults(dir: string, prefix: RegExp | string = ''): Map<string, boolean> {
  const results = new Map<string, boolean>();
  for (const file of globSync('**/checks.json', { cwd: dir })) {
    const name = file
      .replace(/\\/g, '/')
      .replace(/\/checks\.json$/, '')
      .replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '')
      .replace(prefix, '');
    let failed = true;
    try {
      const checks = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { status: string }[];
      failed = checks.some((c) => c.status === 'FAILURE' || c.status === 'WARNING');
    } catch {
      // unreadable results count as a failure
    }
    results.set(name, (results.get(name) ?? false) || failed);
  }
  return results;
}

/** What differs from the baseline, one line each; empty when the run is as expected. */
export function baselineProblems(results: Map<string, boolean>, baseline: readonly string[]): string[] {
  const expected = new Set(baseline);
  const problems: string[] = [];
  for (const [scenario, failed] of results) {
    if (failed && !expected.has(scenario)) problems.push(`UNEXPECTED FAILURE ${scenario} (not in the baseline)`);
    if (!failed && expected.has(scenario)) problems.push(`STALE BASELINE ENTRY ${scenario}: it passes now, remove it`);
  }
  for (const scenario of baseline) {
    if (!results.has(scenario)) problems.push(`BASELINE ENTRY NOT RUN ${scenario}: unknown or renamed scenario`);
  }
  return problems;
}

/** Scenario counts of one run: passed, failed as the baseline expects, failed unexpectedly. */
export interface Counts {
  passed: number;
  baselined: number;
  failed: number;
}

/** Counts the scenarios of `results` (all of them, or only those named in `only`). */
export function countResults(
  results: Map<string, boolean>,
  baseline: readonly string[],
  only?: ReadonlySet<string>,
): Counts {
  const expected = new Set(baseline);
  const counts: Counts = { passed: 0, baselined: 0, failed: 0 };
  for (const [scenario, failed] of results) {
    if (only !== undefined && !only.has(scenario)) continue;
    if (!failed) counts.passed++;
    else if (expected.has(scenario)) counts.baselined++;
    else counts.failed++;
  }
  return counts;
}

/** `12 passed, 3 baselined, 0 failed` */
export function formatCounts(c: Counts): string {
  return `${c.passed} passed, ${c.baselined} baselined, ${c.failed} failed`;
}
