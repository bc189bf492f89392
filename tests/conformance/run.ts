// Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against this repo:
//   node --conditions=development tests/conformance/run.ts [server|client|all]   (default all)
// Server mode: the real server (Streamable HTTP side of /mcp) with real token verification
// against a local signing issuer; the suite cannot send a bearer token, so a loopback proxy adds
// `Authorization: Bearer <token>` to every request (as an MCP host would) and forwards Host and
// Origin unchanged. Client mode: the mcp-client CLI via tests/conformance/client-command.ts.
// Failures are compared with server-baseline.yml / client-baseline.yml by the suite itself
// (--expected-failures): an unexpected failure or a stale baseline entry exits non-zero.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

function baselineEntries(file: string, mode: 'server' | 'client'): string[] {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const out: string[] = [];
  let inMode = false;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) inMode = line.startsWith(`${mode}:`);
    const m = inMode ? /^\s+-\s+([^\s#]+)/.exec(line) : null;
    if (m) out.push(m[1]!);
  }
  return out;
}

async function serverMode(output: string): Promise<number> {
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
      ALLOWED_ORIGINS: `http://127.0.0.1:${proxyPort},http://localhost:${proxyPort}`,
      SHUTDOWN_GRACE_MS: '500',
    }),
    { logger: createLogger({ level: 'silent' }) },
  );
  await server.ready;
  target = server.port;
  try {
    return await runSuite(
      [
        'server',
        '--url',
        `http://127.0.0.1:${proxyPort}/mcp`,
        '--expected-failures',
        join(here, 'server-baseline.yml'),
      ],
      output,
    );
  } finally {
    proxy.closeAllConnections();
    proxy.close();
    await server.close();
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function clientMode(output: string): Promise<number> {
  const baseline = join(here, 'client-baseline.yml');
  const scenarios = [...CLIENT_SCENARIOS, ...baselineEntries(baseline, 'client')];
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
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) {
  const mode = process.argv[2] ?? 'all';
  const output = mkdtempSync(join(tmpdir(), 'conformance-results-'));
  let code = 0;
  if (mode === 'server' || mode === 'all') code ||= await serverMode(output);
  if (mode === 'client' || mode === 'all') code ||= await clientMode(output);
  console.log(`# conformance ${mode}: ${code === 0 ? 'as expected' : 'UNEXPECTED FAILURES'} (results in ${output})`);
  process.exit(code);
}
