// Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against this repo:
//   node --conditions=development tests/conformance/run.ts [server|client|all]   (default all)
// Server mode: the real server (Streamable HTTP side of /mcp) with real token verification
// against a local signing issuer; the suite cannot send a bearer token, so a loopback proxy adds
// `Authorization: Bearer <token>` to every request (as an MCP host would) and forwards Host and
// Origin unchanged. Client mode: the mcp-client CLI via tests/conformance/client-command.ts.
// Failures are compared with server-baseline.yml / client-baseline.yml by the suite itself
// (--expected-failures) and again here from the saved checks.json files: an unexpected failure, a
// stale baseline entry (the scenario now passes) or a baseline entry that was never run (renamed
// or unknown scenario) exits non-zero, and each is printed on a `# conformance <mode>:` line.
// Other baselines (tests of this runner): --server-baseline <file>, --client-baseline <file>.
import { spawn } from 'node:child_process';
import { existsSync, globSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger, loadConfig, startServer } from '../../mcp-server/src/index.ts';
import { startLocalIssuer } from '../unit/server/helpers/local-issuer.ts';

export const CONFORMANCE_VERSION = '0.1.16';
const here = import.meta.dirname;
const repo = resolve(here, '../..');

/** Client scenarios run (besides the baseline's, which are run to catch stale entries). */
export const CLIENT_SCENARIOS = ['initialize', 'tools_call', 'auth/client-credentials-basic', 'auth/pre-registration'];
/**
 * Client scenarios that fail today (each in client-baseline.yml with its reason), run whatever the
 * baseline says: deleting one of its entries without a fix is then an unexpected failure, not a
 * scenario silently dropped from the run.
 */
const CLIENT_TRACKED = [
  'auth/metadata-default',
  'auth/metadata-var1',
  'auth/metadata-var2',
  'auth/metadata-var3',
  'auth/token-endpoint-auth-basic',
  'auth/token-endpoint-auth-post',
  'auth/scope-from-www-authenticate',
];

function suiteCommand(): string[] {
  const local = join(repo, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
  if (existsSync(local)) return [process.execPath, local];
  return ['npx', '-y', `@modelcontextprotocol/conformance@${CONFORMANCE_VERSION}`];
}

function runSuite(args: string[], output: string): Promise<number> {
  const [cmd, ...pre] = suiteCommand();
  return new Promise((done) => {
    const child = spawn(cmd!, [...pre, ...args, '-o', output], { stdio: 'inherit', cwd: repo });
    child.on('close', (code) => done(code ?? 1));
  });
}

/** The scenario names of `mode` in a baseline file. @throws when the file is missing or lists none. */
export function baselineEntries(file: string, mode: 'server' | 'client'): string[] {
  if (!existsSync(file)) throw new Error(`conformance baseline ${file} is missing`);
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  let inMode = false;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) inMode = line.startsWith(`${mode}:`);
    const m = inMode ? /^\s+-\s+([^\s#]+)/.exec(line) : null;
    if (m) out.push(m[1]!);
  }
  if (out.length === 0) throw new Error(`conformance baseline ${file} lists no ${mode} scenarios`);
  return out;
}

/** Outcome of each scenario run into `dir` (its checks.json files): true when it failed (FAILURE or WARNING, as the suite counts). */
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

/** Prints the verdict of one mode; returns the exit code (non-zero when the suite or the comparison failed). */
function verdict(mode: 'server' | 'client', suiteCode: number, problems: readonly string[], ran: number): number {
  for (const p of problems) console.log(`# conformance ${mode}: ${p}`);
  if (ran === 0) console.log(`# conformance ${mode}: NO RESULTS (the suite saved no checks.json)`);
  const code = suiteCode !== 0 || problems.length > 0 || ran === 0 ? 1 : 0;
  console.log(
    `# conformance ${mode}: ${ran} scenarios, ${code === 0 ? 'as expected' : `FAILED (suite exit ${suiteCode})`}`,
  );
  return code;
}

async function serverMode(output: string, baseline: string): Promise<number> {
  const expected = baselineEntries(baseline, 'server');
  const issuer = await startLocalIssuer();
  const root = mkdtempSync(join(tmpdir(), 'conformance-root-'));
  writeFileSync(join(root, 'hello.txt'), 'hello\n');
  // The proxy listens first: its origin is the one the suite presents as "valid localhost".
  let target = 0;
  const token = await issuer.sign({ azp: 'conformance', sub: 'conformance' }, { expiresIn: '1h' });
  const proxy = createServer((req, res) => {
    const headers = { ...req.headers };
    headers.authorization ??= `Bearer ${token}`;
    const up = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
  const proxyPort = (proxy.address() as AddressInfo).port;
  const server = await startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      TARGET_DIR: root,
      OAUTH_ISSUER: issuer.issuer,
      OAUTH_AUDIENCE: 'mcp-server', // the local issuer's tokens
      ALLOWED_ORIGINS: `http://127.0.0.1:${proxyPort},http://localhost:${proxyPort}`,
      SHUTDOWN_GRACE_MS: '500',
    }),
    { logger: createLogger({ level: 'silent' }) },
  );
  await server.ready;
  target = server.port;
  try {
    const code = await runSuite(
      ['server', '--url', `http://127.0.0.1:${proxyPort}/mcp`, '--expected-failures', baseline],
      output,
    );
    const results = scenarioResults(output, /^server-/);
    return verdict('server', code, baselineProblems(results, expected), results.size);
  } finally {
    proxy.closeAllConnections();
    proxy.close();
    await server.close();
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function clientMode(output: string, baseline: string): Promise<number> {
  const expected = baselineEntries(baseline, 'client');
  const scenarios = [...new Set([...CLIENT_SCENARIOS, ...CLIENT_TRACKED, ...expected])];
  const command = `${process.execPath} --conditions=development ${join(here, 'client-command.ts')}`;
  let failed = 0;
  for (const scenario of scenarios) {
    const code = await runSuite(
      ['client', '--command', command, '--scenario', scenario, '--expected-failures', baseline],
      output,
    );
    if (code !== 0) {
      failed++;
      console.error(`# conformance client ${scenario}: unexpected result (exit ${code})`);
    }
  }
  const results = scenarioResults(output);
  return verdict('client', failed === 0 ? 0 : 1, baselineProblems(results, expected), results.size);
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]!) : fallback;
}

if (import.meta.main) {
  const mode = process.argv[2]?.startsWith('--') ? 'all' : (process.argv[2] ?? 'all');
  if (!['server', 'client', 'all'].includes(mode)) {
    console.error(`unknown mode "${mode}": use server, client or all`);
    process.exit(2);
  }
  const output = mkdtempSync(join(tmpdir(), 'conformance-results-'));
  const serverBaseline = option('--server-baseline', join(here, 'server-baseline.yml'));
  const clientBaseline = option('--client-baseline', join(here, 'client-baseline.yml'));
  // Both modes run (each reports its own problems); either failing fails the run.
  let code = 0;
  for (const m of ['server', 'client'] as const) {
    if (mode !== m && mode !== 'all') continue;
    const dir = join(output, m);
    mkdirSync(dir);
    code = (m === 'server' ? await serverMode(dir, serverBaseline) : await clientMode(dir, clientBaseline)) || code;
  }
  console.log(`# conformance ${mode}: ${code === 0 ? 'as expected' : 'UNEXPECTED FAILURES'} (results in ${output})`);
  process.exit(code);
}
