// Reads the configuration tables of the READMEs and checks them against the defaults the code
// applies. Pure functions over text and values, so docs-match-code.test.ts can also prove that a
// mismatch is reported.

/** One row of a configuration table: the variables it names and the default shown for each. */
export interface DocRow {
  readonly names: readonly string[];
  /** The default cell, split per variable when the row names several (`a` / `b`). */
  readonly defaults: readonly string[];
}

/** Variables `loadConfig` reads, in source order: the keys of its `cleanEnv` spec. */
export function specVariables(configSource: string): string[] {
  const start = configSource.indexOf('cleanEnv(');
  const end = configSource.indexOf('reporter', start);
  if (start < 0 || end < 0) throw new Error('no cleanEnv(...) spec with a reporter found');
  return [...configSource.slice(start, end).matchAll(/^\s+([A-Z][A-Z0-9_]*): [A-Za-z]+\(/gm)].map(
    (m) => m[1] as string,
  );
}

const splitCells = (line: string) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());

/**
 * The first table after the heading that matches `heading`, with its default column (`default` or
 * `デフォルト`). Rows name variables in backticks in the first cell.
 * @throws Error when there is no such heading or table.
 */
export function variableTable(markdown: string, heading: RegExp): DocRow[] {
  const lines = markdown.split('\n');
  const at = lines.findIndex((l) => l.startsWith('#') && heading.test(l));
  if (at < 0) throw new Error(`no heading matching ${heading}`);
  let i = lines.findIndex((l, n) => n > at && l.startsWith('|'));
  if (i < 0) throw new Error(`no table after ${lines[at]}`);
  const header = splitCells(lines[i] as string);
  const column = header.findIndex((c) => /^(default|デフォルト)$/i.test(c));
  if (column < 0) throw new Error(`no default column in ${lines[i]}`);
  const rows: DocRow[] = [];
  for (i += 2; i < lines.length && lines[i]?.startsWith('|'); i++) {
    const cells = splitCells(lines[i] as string);
    const names = [...(cells[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] as string);
    const cell = cells[column] ?? '';
    const parts = cell.split(/\s+\/\s+/);
    rows.push({ names, defaults: names.map((_, n) => (parts.length === names.length ? (parts[n] as string) : cell)) });
  }
  return rows;
}

/** The backticked literals of a cell, e.g. ['OAUTH_ISSUER'] for "`OAUTH_ISSUER`". */
export const literalsOf = (cell: string): string[] => [...cell.matchAll(/`([^`]*)`/g)].map((m) => m[1] as string);

const PLACEHOLDER = /\b[A-Z][A-Z0-9_]{2,}\b/g;
const HAS_PLACEHOLDER = /\b[A-Z][A-Z0-9_]{2,}\b/;
const isUnset = (v: unknown) => v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
const display = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/**
 * Compares one documented default with the code's. A cell that is exactly one backticked literal
 * claims that value (variable names in it, e.g. `PORT`, stand for their own defaults); anything
 * else ("—", "(none)", prose) is fine for a setting the code leaves unset or derives as a list.
 * @returns a problem, or undefined when they agree.
 */
export function compareDefault(
  name: string,
  documented: string,
  code: unknown,
  defaults: ReadonlyMap<string, unknown>,
): string | undefined {
  const literal = /^`([^`]*)`$/.exec(documented.trim())?.[1];
  if (isUnset(code)) {
    if (literal !== undefined && !HAS_PLACEHOLDER.test(literal)) {
      return `${name}: documented default ${documented}, but the code sets none`;
    }
    return undefined;
  }
  if (literal === undefined) {
    return Array.isArray(code)
      ? undefined
      : `${name}: documented default "${documented}", code default ${display(code)}`;
  }
  const resolved = literal.replace(PLACEHOLDER, (v) => (defaults.has(v) ? display(defaults.get(v)) : v));
  const same = typeof code === 'number' ? Number(resolved) === code : resolved === display(code);
  return same ? undefined : `${name}: documented default ${documented}, code default ${display(code)}`;
}

/** What to check one table against. */
export interface TableCheck {
  /** Which document and table, for messages. */
  readonly label: string;
  readonly rows: readonly DocRow[];
  /** Every variable the code reads through its config. */
  readonly codeVariables: readonly string[];
  /** The default of each variable the code gives a value (set by the test or not). */
  readonly defaults: ReadonlyMap<string, unknown>;
  /** Variables set by the test to load the config at all: their defaults are not compared. */
  readonly setByTest: ReadonlySet<string>;
  /** Documented variables read outside config.ts (e.g. by the entry point), allowed in the table. */
  readonly readElsewhere: ReadonlySet<string>;
}

/** Every disagreement between one table and the code, as readable lines (empty when none). */
export function tableProblems(check: TableCheck): string[] {
  const problems: string[] = [];
  const documented = new Map<string, string>();
  for (const row of check.rows) {
    for (const [i, name] of row.names.entries()) documented.set(name, row.defaults[i] ?? '');
  }
  for (const name of check.codeVariables) {
    if (!documented.has(name)) problems.push(`${check.label}: ${name} is read by the code but not documented`);
  }
  for (const [name, cell] of documented) {
    if (!check.codeVariables.includes(name)) {
      if (!check.readElsewhere.has(name))
        problems.push(`${check.label}: ${name} is documented but the code never reads it`);
      continue;
    }
    if (check.setByTest.has(name)) continue;
    if (!check.defaults.has(name)) {
      problems.push(`${check.label}: ${name} has no config field to read its default from`);
      continue;
    }
    const problem = compareDefault(name, cell, check.defaults.get(name), check.defaults);
    if (problem) problems.push(`${check.label}: ${problem}`);
  }
  return problems;
}

/** Differences between two tables that must list the same variables with the same literal defaults. */
export function translationProblems(
  label: string,
  original: readonly DocRow[],
  translated: readonly DocRow[],
): string[] {
  const flat = (rows: readonly DocRow[]) =>
    rows.flatMap((r) => r.names.map((n, i) => [n, r.defaults[i] ?? ''] as const));
  const a = flat(original);
  const b = new Map(flat(translated));
  const problems: string[] = [];
  for (const [name, cell] of a) {
    if (!b.has(name)) problems.push(`${label}: ${name} is missing`);
    else if (literalsOf(cell).join(' ') !== literalsOf(b.get(name) as string).join(' ')) {
      problems.push(`${label}: ${name} default ${b.get(name)} differs from ${cell}`);
    }
  }
  const names = new Set(a.map(([n]) => n));
  for (const name of b.keys()) if (!names.has(name)) problems.push(`${label}: ${name} is not in the English table`);
  return problems;
}

/** `MAX_TOKEN_BYTES` -> `maxTokenBytes`. */
export const camelCase = (name: string) =>
  name.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
