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

/** Each scenario run and, for each of its check ids, the worst status it had (FAILURE, WARNING, SUCCESS...). */
export type Results = Map<string, Map<string, string>>;

const SEVERITY = ['FAILURE', 'WARNING', 'SUCCESS'];
const rank = (status: string) => (SEVERITY.includes(status) ? SEVERITY.indexOf(status) : SEVERITY.length);
/** FAILURE or WARNING: what the suite counts as failing (a SHOULD not met fails too). */
export const isFailing = (status: string) => status === 'FAILURE' || status === 'WARNING';

/**
 * The checks of each scenario run into `dir` (its checks.json files). `prefix` is stripped from
 * the directory name (server runs save into `server-<scenario>-<timestamp>`). An unreadable file
 * counts as a failed check `checks.json`.
 */
export function scenarioResults(dir: string, prefix: RegExp | string = ''): Results {
  const results: Results = new Map();
  for (const file of globSync('**/checks.json', { cwd: dir })) {
    const name = file
      .replace(/\\/g, '/')
      .replace(/\/checks\.json$/, '')
      .replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '')
      .replace(prefix, '');
    const checks = results.get(name) ?? new Map<string, string>();
    results.set(name, checks);
    let parsed: { id: string; status: string }[];
    try {
      parsed = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { id: string; status: string }[];
    } catch {
      parsed = [{ id: 'checks.json', status: 'FAILURE' }];
    }
    for (const { id, status } of parsed) {
      const was = checks.get(id);
      if (was === undefined || rank(status) < rank(was)) checks.set(id, status);
    }
  }
  return results;
}

/** A baseline split into whole-scenario entries and `scenario:check-id` entries. */
function parse(baseline: readonly string[]): { whole: Set<string>; checks: Map<string, Set<string>> } {
  const whole = new Set<string>();
  const checks = new Map<string, Set<string>>();
  for (const entry of baseline) {
    const at = entry.indexOf(':');
    if (at < 0) whole.add(entry);
    else checks.set(entry.slice(0, at), (checks.get(entry.slice(0, at)) ?? new Set()).add(entry.slice(at + 1)));
  }
  return { whole, checks };
}

/** The failing check ids of a scenario that its baseline entries do not excuse. */
function unexcused(scenario: string, checks: Map<string, string>, baseline: ReturnType<typeof parse>): string[] {
  if (baseline.whole.has(scenario)) return [];
  const excused = baseline.checks.get(scenario) ?? new Set<string>();
  return [...checks].filter(([id, status]) => isFailing(status) && !excused.has(id)).map(([id]) => id);
}

/**
 * What differs from the baseline, one line each; empty when the run is as expected. A whole
 * scenario entry excuses any failure of it; a `scenario:check-id` entry excuses that check only.
 * Stale: the scenario (or check) passes now. Not run: the scenario (or check) never ran.
 */
export function baselineProblems(results: Results, baseline: readonly string[]): string[] {
  const parsed = parse(baseline);
  const problems: string[] = [];
  for (const [scenario, checks] of results) {
    const failing = [...checks.values()].some(isFailing);
    const bad = unexcused(scenario, checks, parsed);
    if (bad.length > 0) problems.push(`UNEXPECTED FAILURE ${scenario} (${bad.join(', ')}; not in the baseline)`);
    if (!failing && parsed.whole.has(scenario))
      problems.push(`STALE BASELINE ENTRY ${scenario}: it passes now, remove it`);
    for (const id of parsed.checks.get(scenario) ?? []) {
      const status = checks.get(id);
      if (status === undefined) problems.push(`BASELINE ENTRY NOT RUN ${scenario}:${id}: no such check ran`);
      else if (!isFailing(status)) problems.push(`STALE BASELINE ENTRY ${scenario}:${id}: it passes now, remove it`);
    }
  }
  for (const scenario of [...parsed.whole, ...parsed.checks.keys()]) {
    if (!results.has(scenario)) problems.push(`BASELINE ENTRY NOT RUN ${scenario}: unknown or renamed scenario`);
  }
  return problems;
}

/** Scenario counts of one run: passed, failed only as the baseline expects, failed unexpectedly. */
export interface Counts {
  passed: number;
  baselined: number;
  failed: number;
}

/** Counts the scenarios of `results` (all of them, or only those named in `only`). */
export function countResults(results: Results, baseline: readonly string[], only?: ReadonlySet<string>): Counts {
  const parsed = parse(baseline);
  const counts: Counts = { passed: 0, baselined: 0, failed: 0 };
  for (const [scenario, checks] of results) {
    if (only !== undefined && !only.has(scenario)) continue;
    if (![...checks.values()].some(isFailing)) counts.passed++;
    else if (unexcused(scenario, checks, parsed).length === 0) counts.baselined++;
    else counts.failed++;
  }
  return counts;
}

/** `12 passed, 3 baselined, 0 failed` */
export function formatCounts(c: Counts): string {
  return `${c.passed} passed, ${c.baselined} baselined, ${c.failed} failed`;
}
