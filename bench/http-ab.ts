/**
 * A/B of the Streamable HTTP rows only (`node --conditions=development bench/http-ab.ts`): the
 * server's 2026-07-28 stateless path, its 2025-11-25 sessions, and the SDK `createMcpHandler`
 * peer, read-file 1 KiB, interleaved short runs, medians. For iterating on the HTTP path without
 * the whole `npm run bench`. Flags: --reps=N (default 5), --ms=window (default 1000),
 * --inflight=N (default 32), --profile (profile the server under the 2026-07-28 row and print its
 * hot spots instead), --ws (adds ours over WebSocket, 2026-07-28), --base=<checkout> (adds both HTTP
 * rows of the server of another checkout, e.g. a `git worktree` of an older commit, for per-change A/B),
 * --base-flags=<node flags> (of the base server; the same checkout with other flags: --base=.).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Child, startChild } from './child.ts';
import type { LoopResult } from './closed-loop.ts';
import { createDataset } from './dataset.ts';
import { startLocalIssuer } from './local-issuer.ts';
import { hotSpotsOf } from './profile.ts';
import { PAYLOADS } from './rows.ts';
import type { StartedServer } from './server-process.ts';
import { spread } from './stats.ts';

const flag = (name: string, fallback: number) => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : Number(arg.slice(name.length + 3));
};
const reps = flag('reps', 5);
const ms = flag('ms', 1000);
const inflight = flag('inflight', 32);
const profile = process.argv.includes('--profile');
/** Node flags of the base server (e.g. `--base-flags=--max-semi-space-size=8`), space-separated. */
const baseFlags = (process.argv.find((a) => a.startsWith('--base-flags='))?.slice(13) ?? '').split(' ').filter(Boolean);
/** CPU time (user + system) of process `pid` so far, in ms (Linux /proc). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
const here = (file: string) => new URL(file, import.meta.url);
const log = (line: string) => process.stdout.write(`${line}\n`);

const issuer = await startLocalIssuer();
const dataset = await createDataset();
const children: Child[] = [];
const spawn = (file: string, options: Parameters<typeof startChild>[1] = {}) => {
  const child = startChild(here(file), options);
  children.push(child);
  return child;
};
try {
  const startServer = async (root?: string) => {
    const child = spawn('./server-process.ts', {
      stdout: 'ignore',
      execArgv: ['--expose-gc', ...(root === undefined ? [] : baseFlags)],
      ...(root === undefined ? {} : { env: { ...process.env, BENCH_SERVER_ROOT: root } }),
    });
    return { child, server: await child.call<StartedServer>('start', serverEnv) };
  };
  const serverEnv = {
    PORT: '0',
    HOST: '127.0.0.1',
    TARGET_DIR: dataset.root,
    OAUTH_ISSUER: issuer.issuer,
    OAUTH_AUDIENCE: 'mcp-server',
    LOG_LEVEL: 'info',
    MAX_CONNECTIONS: '20000',
    MAX_CONNECTIONS_PER_CLIENT: '20000',
    MAX_IN_FLIGHT_PER_CONNECTION: '1000000',
    MAX_IN_FLIGHT_PER_CLIENT: '1000000',
    RATE_LIMIT_CALLS_PER_SECOND: '1000000000',
    RATE_LIMIT_BURST: '1000000000',
  };
  const { child: serverProc, server } = await startServer();
  const baseRoot = process.argv.find((a) => a.startsWith('--base='))?.slice(7);
  const base = baseRoot === undefined ? undefined : await startServer(path.resolve(baseRoot));
  const peer = spawn('./sdk-handler-peer.ts', { stdout: 'ignore' });
  const peerUrl = await peer.call<string>('start', {
    issuer: issuer.issuer,
    jwksUrl: issuer.jwksUrl,
    root: dataset.root,
    logLevel: 'info',
  });
  const load = spawn('./load-http.ts');
  const loadWs = process.argv.includes('--ws') ? spawn('./load-ws.ts') : undefined;
  const token = await issuer.sign('bench-user', 3600);
  const call = PAYLOADS.find((p) => p.id === 'read-1k')!.call;
  const targets = [
    { id: 'ours-2026', url: server.httpUrl!, modern: true },
    { id: 'ours-2025', url: server.httpUrl!, modern: false },
    { id: 'sdk-handler', url: peerUrl, modern: true },
    ...(loadWs ? [{ id: 'ours-ws-2026', url: server.wsUrl, modern: true }] : []),
    ...(base
      ? [
          { id: 'base-2026', url: base.server.httpUrl!, modern: true },
          { id: 'base-2025', url: base.server.httpUrl!, modern: false },
        ]
      : []),
  ];
  const pids: Record<string, number> = {
    'ours-2026': serverProc.pid,
    'ours-2025': serverProc.pid,
    'ours-ws-2026': serverProc.pid,
    'sdk-handler': peer.pid,
    'base-2026': base?.child.pid ?? -1,
    'base-2025': base?.child.pid ?? -1,
  };
  const loadOf = (t: (typeof targets)[number]) => (t.id === 'ours-ws-2026' ? loadWs! : load);
  for (const t of targets) {
    const text = await loadOf(t).call<string>('capture', {
      url: t.url,
      token,
      call,
      modern: t.modern,
      initialize: !t.modern,
    });
    log(`${t.id}: ${text.length} bytes: ${text.slice(0, 160)}`);
  }
  const run = (t: (typeof targets)[number], windowMs: number) =>
    loadOf(t).call<LoopResult>('run', {
      url: t.url,
      token,
      call,
      modern: t.modern,
      initialize: !t.modern,
      inflight,
      warmupMs: 300,
      durationMs: windowMs,
      maxRequests: 10_000_000,
      minBytes: 1000,
    });
  if (profile) {
    const file = path.join(import.meta.dirname, 'results', `http-2026-${Date.now()}-server.cpuprofile`);
    await serverProc.call('profileStart');
    const result = await run(targets[0]!, 4000);
    await serverProc.call('profileStop', file);
    log(`profiled ${result.count} calls (${Math.round(result.perSecond)}/s) -> ${file}`);
    for (const h of await hotSpotsOf(file, 40)) {
      log(`${(h.share * 100).toFixed(1).padStart(6)}%  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.where}`);
    }
  } else {
    const perSecond = new Map<string, number[]>(targets.map((t) => [t.id, []]));
    const serverCpu = new Map<string, number[]>(targets.map((t) => [t.id, []]));
    for (let rep = 0; rep < reps; rep++) {
      // Rotated each repetition: a row's place in the round biased its figures (the same server
      // measured 185 µs/call first in the round and 162 fourth).
      const order = targets.map((_, i) => targets[(i + rep) % targets.length]!);
      for (const t of order) {
        const [s0, l0] = [cpuMs(pids[t.id]!), cpuMs(loadOf(t).pid)];
        const r = await run(t, ms);
        // Whole run (warm-up included) over measured calls: an estimate of CPU per call.
        const calls = r.count * ((ms + 300) / ms);
        const [s1, l1] = [cpuMs(pids[t.id]!), cpuMs(loadOf(t).pid)];
        perSecond.get(t.id)!.push(r.perSecond);
        serverCpu.get(t.id)!.push(((s1 - s0) * 1000) / calls);
        log(
          `rep ${rep + 1} ${t.id.padEnd(12)} ${Math.round(r.perSecond)}/s p50 ${r.p50 === null ? '—' : r.p50.toFixed(2)} ms errors ${r.errors}` +
            ` server ${(((s1 - s0) * 1000) / calls).toFixed(0)} µs/call, load ${(((l1 - l0) * 1000) / calls).toFixed(0)} µs/call`,
        );
      }
    }
    const median = (id: string) => spread(perSecond.get(id)!).median;
    for (const t of targets) {
      const s = spread(perSecond.get(t.id)!);
      const cpu = spread(serverCpu.get(t.id)!).median;
      log(
        `${t.id.padEnd(12)} median ${Math.round(s.median)}/s (${Math.round(s.min)}-${Math.round(s.max)}), ` +
          `server ${cpu.toFixed(0)} µs/call`,
      );
    }
    const ratio = (a: string, b: string) => `${a} / ${b} = ${(median(a) / median(b)).toFixed(2)}x`;
    log([ratio('ours-2026', 'sdk-handler'), ratio('ours-2026', 'ours-2025')].join('; '));
    if (base) log([ratio('ours-2026', 'base-2026'), ratio('ours-2025', 'base-2025')].join('; '));
  }
} finally {
  await Promise.allSettled(children.map((c) => c.stop()));
  await issuer.close();
  await dataset.remove();
}
