/**
 * Benchmark runner (`npm run bench`): starts the server under test, the echo ceiling, the
 * Streamable HTTP peer and the load generators as separate processes, measures every row, and
 * writes bench/results/<date>.json, BENCHMARKS.md and bench/latency-vs-inflight.svg.
 * Flags: --quick (short runs, no BENCHMARKS.md), --profile[=payload], --only=sections, --log-level=L,
 * --from=bench/results/<date>.json (re-render the report only).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Child, startChild } from './child.ts';
import type { LoopResult } from './closed-loop.ts';
import { measureConnections } from './connections.ts';
import { createDataset } from './dataset.ts';
import { measureHandshakes } from './handshakes.ts';
import { startLocalIssuer } from './local-issuer.ts';
import { hotSpotsOf } from './profile.ts';
import { type RenewalResult, renewalTokensNeeded } from './renewal.ts';
import { latencyChart, renderMarkdown } from './report.ts';
import { type HandshakeResult, loadAverage, type RenewalFigures, type Results, type RowResult } from './results.ts';
import { allRows, PAYLOADS, type Payload, type Row, rowKey, TARGETS, type Target } from './rows.ts';
import type { StartedServer } from './server-process.ts';
import { machine, maxOpenFiles, parseSettings, raiseOpenFiles, SECTIONS, SERVER_NODE_OPTIONS } from './settings.ts';
import { combine, quantile, spread } from './stats.ts';
import { measureTokenTraffic } from './token-traffic.ts';
import type { Era } from './wire.ts';

/** Loaded runs without and with renewals per repetition, alternated. */
const RENEWAL_PAIRS = 3;

/** Descriptors the server needs besides its connections (files, listeners, the peers' sockets). */
const CONNECTION_FD_HEADROOM = 1000;
const here = (file: string) => new URL(file, import.meta.url);
const repo = path.resolve(import.meta.dirname, '..');
const log = (line: string) => process.stdout.write(`${line}\n`);

const settings = parseSettings(process.argv.slice(2));
if (settings.from !== undefined) {
  const results = JSON.parse(await readFile(path.resolve(settings.from), 'utf8')) as Results;
  await writeReport(results, path.relative(repo, path.resolve(settings.from)));
  process.exit(0);
}
const started = new Date();
// Before any child starts, so all inherit it: the connection rows hold tens of thousands of sockets.
log(`open-files limit ${raiseOpenFiles()}`);
const loadBefore = loadAverage();
const stamp = started.toISOString().replace(/[:.]/g, '-').slice(0, 19);
const issuer = await startLocalIssuer({ tokenLifetimeSeconds: settings.tokenLifetimeSeconds });
const dataset = await createDataset();
const children: Child[] = [];
const spawn = (file: string, options: Parameters<typeof startChild>[1] = {}) => {
  const child = startChild(here(file), options);
  children.push(child);
  return child;
};

try {
  const { child: serverProc, server } = await startServerProcess();
  const token = await issuer.sign('bench-user', 3600);
  const loadWs = spawn('./load-ws.ts');
  log(`server ${server.wsUrl} (pid ${server.pid}), issuer ${issuer.issuer}, data ${dataset.root}`);

  if (settings.profile) {
    const file = path.join(repo, 'bench', 'results', `${stamp}-server.cpuprofile`);
    await mkdir(path.dirname(file), { recursive: true });
    // `--profile=payload` (WebSocket) or `--profile=payload@target` (e.g. read-1k@server-http-2026).
    const [payloadId, targetId = 'server-ws'] = settings.profilePayload.split('@');
    const payload = PAYLOADS.find((p) => p.id === payloadId);
    const target = TARGETS.find((t) => t.id === targetId && t.id.startsWith('server-'));
    if (!payload || !target)
      throw new TypeError(
        `unknown payload or target ${settings.profilePayload} (${PAYLOADS.map((p) => p.id).join(', ')}; ` +
          `@${TARGETS.filter((t) => t.id.startsWith('server-'))
            .map((t) => t.id)
            .join(', @')})`,
      );
    const load = target.transport === 'ws' ? loadWs : spawn('./load-http.ts');
    const url = target.transport === 'ws' ? server.wsUrl : server.httpUrl;
    const run = { url, token, ...era(target), call: payload.call, inflight: 32, maxRequests: 5_000_000 };
    await load.call('run', { ...run, warmupMs: 200, durationMs: 1000 });
    await serverProc.call('profileStart');
    const result = await load.call<LoopResult>('run', { ...run, warmupMs: 0, durationMs: settings.profileMs });
    await serverProc.call('profileStop', file);
    log(`profiled ${result.count} calls (${Math.round(result.perSecond)}/s) -> ${path.relative(repo, file)}`);
    log('top 15 self-time functions of the server process ((idle) = waiting, not computing):');
    for (const h of await hotSpotsOf(file, 15)) {
      log(`${(h.share * 100).toFixed(1).padStart(6)}%  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.where}`);
    }
  } else {
    const results = await measureAll(server, serverProc, token, loadWs);
    await report(results);
  }
} finally {
  await Promise.allSettled(children.map((c) => c.stop()));
  await issuer.close();
  await dataset.remove();
}

/** Starts the server under test in its own process, with the per-client limits lifted. */
async function startServerProcess(): Promise<{ child: Child; server: StartedServer }> {
  const child = spawn('./server-process.ts', {
    stdout: 'ignore',
    execArgv: ['--expose-gc', '--max-old-space-size=4096', ...SERVER_NODE_OPTIONS],
  });
  const server = await child.call<StartedServer>('start', {
    PORT: '0',
    HOST: '127.0.0.1',
    TARGET_DIR: dataset.root,
    OAUTH_ISSUER: issuer.issuer,
    OAUTH_AUDIENCE: 'mcp-server', // the local issuer's tokens
    LOG_LEVEL: settings.serverLogLevel,
    // Capacity is what is measured: lift the per-client limits a production config keeps.
    MAX_CONNECTIONS: '60000',
    MAX_CONNECTIONS_PER_CLIENT: '60000',
    MAX_IN_FLIGHT_PER_CONNECTION: '1000000',
    MAX_IN_FLIGHT_PER_CLIENT: '1000000',
    RATE_LIMIT_CALLS_PER_SECOND: '1000000000',
    RATE_LIMIT_BURST: '1000000000',
  });
  return { child, server };
}

async function measureAll(server: StartedServer, serverProc: Child, token: string, loadWs: Child): Promise<Results> {
  const only = settings.only;
  const rows: RowResult[] = [];
  if (only.has('throughput')) rows.push(...(await measureThroughput(server, token, loadWs)));
  let handshake: HandshakeResult | undefined;
  if (only.has('handshake')) {
    handshake = await measureHandshakes({
      serverUrl: server.wsUrl,
      serverProc,
      token,
      loadWs,
      echo: spawn('./echo-server.ts'),
      count: settings.handshakes,
      reps: settings.reps,
      log,
    });
  }
  const renewal = only.has('renewal') ? await measureRenewal(server, token, loadWs) : undefined;
  // One socket per connection in a server process: a count it cannot hold is spread over several
  // (connections.ts), and the most one process holds is measured too.
  const limit = Number(maxOpenFiles());
  const most = Number.isFinite(limit) ? Math.floor((limit - CONNECTION_FD_HEADROOM) / 1000) * 1000 : Infinity;
  const counts = [...settings.connectionCounts];
  if (counts.some((n) => n > most) && !counts.includes(most)) counts.push(most);
  counts.sort((a, b) => a - b);
  const connectionsSpread = counts.filter((n) => n > most);
  for (const n of connectionsSpread)
    log(`connections: ${n} over ${Math.ceil(n / most)} server processes (open-files limit ${limit})`);
  const connectionsOf = (era: Era) =>
    measureConnections({
      token: () => issuer.sign('bench-conn', 3600),
      startServer: async () => {
        const { child, server } = await startServerProcess();
        return { child, wsUrl: server.wsUrl };
      },
      counts,
      maxPerServer: most,
      era,
      processes: settings.connectionProcesses,
      reps: settings.connectionReps,
      call: PAYLOADS.find((p) => p.id === 'read-1k')!.call,
      inflight: 32,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs,
      maxRequests: settings.maxRequests,
      log,
    });
  // Both ways a client opens: 2025-11-25 (initialize) and 2026-07-28 (server/discover).
  const connections = only.has('connections')
    ? [...(await connectionsOf('legacy')), ...(await connectionsOf('modern'))]
    : undefined;
  let tokenTraffic: Results['tokenTraffic'];
  if (only.has('tokens')) {
    log(`token traffic: ${settings.tokenRunMs / 1000} s with ${settings.tokenLifetimeSeconds} s tokens...`);
    tokenTraffic = await measureTokenTraffic({
      wsUrl: server.wsUrl,
      issuer,
      lifetimeSeconds: settings.tokenLifetimeSeconds,
      durationMs: settings.tokenRunMs,
      pauseMs: 100,
      call: PAYLOADS.find((p) => p.id === 'list-10')!.call,
    });
    log(`token traffic: ${JSON.stringify(tokenTraffic)}`);
  }
  const { cores, cpuModel, os, node } = machine();
  return {
    meta: {
      date: started.toISOString(),
      node,
      cores,
      cpuModel,
      os,
      maxOpenFiles: maxOpenFiles(),
      serverNodeOptions: SERVER_NODE_OPTIONS,
      quick: settings.quick,
      reps: settings.reps,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs,
      serverLogLevel: settings.serverLogLevel,
      loadBefore,
      loadAfter: loadAverage(),
    },
    rows,
    ...(handshake ? { handshake } : {}),
    ...(renewal ? { renewal } : {}),
    ...(connections ? { connections } : {}),
    ...(tokenTraffic ? { tokenTraffic } : {}),
  };
}

/** How many latencies the repetitions recorded in all, and their p90 and p99. */
function pooled(reps: readonly (readonly number[])[]): { count: number; p90: number; p99: number } {
  const all = reps.flat();
  return { count: all.length, p90: quantile(all, 0.9), p99: quantile(all, 0.99) };
}

/** In-band renewals: idle latency, and calls at 32 in flight with and without a renewal every 20 ms. */
async function measureRenewal(server: StartedServer, token: string, loadWs: Child): Promise<RenewalFigures> {
  const inflight = 32;
  const intervalMs = 20;
  const count = settings.quick ? 50 : 200;
  const runs: RenewalResult[] = [];
  for (let rep = 0; rep < settings.renewalReps; rep++) {
    const shape = { idleCount: count, durationMs: settings.durationMs, intervalMs, pairs: RENEWAL_PAIRS };
    // Same client and subject as the connection's token; a different exp makes each one new (never
    // seen by the server: every renewal pays for the signature check).
    const base = 3000 + rep * 10_000;
    const tokens: string[] = [];
    for (let i = 0; i < renewalTokensNeeded(shape); i++) tokens.push(await issuer.sign('bench-user', base + i));
    const r = await loadWs.call<RenewalResult>('renewals', {
      ...shape,
      url: server.wsUrl,
      token,
      tokens,
      call: PAYLOADS.find((p) => p.id === 'read-1k')!.call,
      inflight,
    });
    runs.push(r);
    const p99s = (runs: readonly { p99: number }[]) => runs.map((x) => fixed(x.p99)).join('/');
    log(
      `renewal rep ${rep + 1}: idle p50 ${fixed(r.idle.p50)} p99 ${fixed(r.idle.p99)} ms; calls p99 ` +
        `${p99s(r.without)} without, ${p99s(r.with)} with renewals (${r.loaded.count} renewed, ${r.refused} refused); ` +
        `p99 of the ${r.around.length} calls around a renewal ${fixed(quantile(r.around, 0.99))} ms, ` +
        `of the ${r.aroundTicks.length} around an idle tick ${fixed(quantile(r.aroundTicks, 0.99))} ms, ` +
        `of the ${r.aroundSilent.length} around a silent tick between renewals ${fixed(quantile(r.aroundSilent, 0.99))} ms, ` +
        `of the ${r.aroundRemembered.length} around a renewal answered from memory ` +
        `${fixed(quantile(r.aroundRemembered, 0.99))} ms`,
    );
  }
  const around = pooled(runs.map((r) => r.around));
  const control = pooled(runs.map((r) => r.aroundTicks));
  const sameRun = pooled(runs.map((r) => r.aroundSilent));
  const remembered = pooled(runs.map((r) => r.aroundRemembered));
  return {
    count,
    idleP50: spread(runs.map((r) => r.idle.p50)),
    idleP99: spread(runs.map((r) => r.idle.p99)),
    inflight,
    intervalMs,
    callP99Without: spread(runs.flatMap((r) => r.without.map((x) => x.p99))),
    callP99With: spread(runs.flatMap((r) => r.with.map((x) => x.p99))),
    loadedRuns: runs.length * RENEWAL_PAIRS,
    pairedP99Ratio: spread(runs.flatMap((r) => r.with.map((x, i) => x.p99 / (r.without[i]?.p99 ?? Number.NaN)))),
    refused: runs.reduce((n, r) => n + r.refused, 0),
    around: {
      ...around,
      controlCount: control.count,
      controlP99: control.p99,
      sameRunCount: sameRun.count,
      sameRunP90: sameRun.p90,
      sameRunP99: sameRun.p99,
      rememberedCount: remembered.count,
      rememberedP90: remembered.p90,
      rememberedP99: remembered.p99,
    },
  };
}

/** Checks a captured response is a successful tool result; answers its size in bytes. */
function checkCapture(text: string, what: string): number {
  const reply = JSON.parse(text) as { result?: { isError?: boolean; content?: { text?: string }[] }; error?: unknown };
  if (!reply.result || reply.result.isError) throw new Error(`${what} failed: ${text.slice(0, 300)}`);
  return Buffer.byteLength(text);
}

async function measureThroughput(server: StartedServer, token: string, loadWs: Child): Promise<RowResult[]> {
  const echo = spawn('./echo-server.ts');
  const peer = spawn('./http-peer.ts', { stdout: 'ignore' });
  const handlerPeer = spawn('./sdk-handler-peer.ts', { stdout: 'ignore' });
  const loadHttp = spawn('./load-http.ts');
  const naive = spawn('./ws-peer.ts');
  const naiveUrl = await naive.call<string>('start', {
    issuer: issuer.issuer,
    jwksUrl: issuer.jwksUrl,
    root: dataset.root,
  });
  const echoUrl = await echo.call<string>('start');
  const peerUrl = await peer.call<string>('start', {
    issuer: issuer.issuer,
    jwksUrl: issuer.jwksUrl,
    root: dataset.root,
    logLevel: settings.serverLogLevel,
  });
  const handlerPeerUrl = await handlerPeer.call<string>('start', {
    issuer: issuer.issuer,
    jwksUrl: issuer.jwksUrl,
    root: dataset.root,
    logLevel: settings.serverLogLevel,
  });
  const endpointOf = (t: Target): { url: string; load: Child } | undefined => {
    const url = {
      echo: echoUrl,
      'server-ws': server.wsUrl,
      'server-ws-2026': server.wsUrl,
      'server-http': server.httpUrl,
      'server-http-2026': server.httpUrl,
      'sdk-http': peerUrl,
      'sdk-handler-2026': handlerPeerUrl,
      'naive-ws': naiveUrl,
    }[t.id];
    return url === undefined ? undefined : { url, load: t.transport === 'ws' ? loadWs : loadHttp };
  };
  const reachable = TARGETS.filter((t) => endpointOf(t) !== undefined);
  const targets = reachable.filter((t) => settings.targets?.has(t.id) ?? true);

  // Capture one real response per payload: checks the call works, sizes the echo reply.
  const templates = new Map<string, string>();
  const sizes = new Map<string, number>();
  for (const p of PAYLOADS) {
    for (const t of reachable.filter((x) => x.mcp)) {
      const { url, load } = endpointOf(t)!;
      const text = await load.call<string>('capture', { url, token, ...era(t), call: p.call });
      sizes.set(`${t.id}/${p.id}`, checkCapture(text, `${t.id} ${p.id}`));
      if (t.id === 'server-ws') templates.set(p.id, text);
    }
    sizes.set(`echo/${p.id}`, await echo.call<number>('setReply', templates.get(p.id)));
  }

  const rows = allRows(targets);
  const samples = new Map<string, LoopResult[]>(rows.map((r) => [rowKey(r), []]));
  let echoPayload = '';
  for (let rep = 0; rep < settings.reps; rep++) {
    for (const row of rows) {
      const { url, load } = endpointOf(row.target)!;
      if (row.target.id === 'echo' && echoPayload !== row.payload.id) {
        await echo.call('setReply', templates.get(row.payload.id));
        echoPayload = row.payload.id;
      }
      const size = sizes.get(`${row.target.id}/${row.payload.id}`) ?? 0;
      const result = await load.call<LoopResult>('run', {
        url,
        token,
        ...era(row.target),
        call: row.payload.call,
        inflight: row.inflight,
        warmupMs: settings.warmupMs,
        durationMs: settings.durationMs,
        maxRequests: settings.maxRequests,
        minBytes: Math.floor(size * 0.9),
      });
      samples.get(rowKey(row))!.push(result);
      log(
        `rep ${rep + 1} ${rowKey(row).padEnd(22)} ${Math.round(result.perSecond).toString().padStart(7)}/s ` +
          `p50 ${fixed(result.p50)} p99 ${fixed(result.p99)} ms` +
          (result.errors + result.lost > 0 ? ` errors ${result.errors} lost ${result.lost}` : ''),
      );
    }
  }
  return rows.map((row: Row) => rowResult(row, samples.get(rowKey(row))!, sizes));
}

/** A latency for the log; a window without completions has none (NaN arrives as null over IPC). */
function fixed(v: number | null): string {
  return v === null || Number.isNaN(v) ? '—' : v.toFixed(3);
}

/** How a load generator opens `t`: initialize first (2025-11-25), or the `_meta` envelope on each request (2026-07-28). */
function era(t: Target): { initialize: boolean; modern: boolean } {
  return { initialize: t.mcp && t.modern !== true, modern: t.modern === true };
}

function rowResult(row: Row, samples: LoopResult[], sizes: Map<string, number>): RowResult {
  const payload: Payload = row.payload;
  return {
    key: rowKey(row),
    target: row.target.id,
    targetLabel: row.target.label,
    payload: payload.id,
    payloadLabel: payload.label,
    inflight: row.inflight,
    responseBytes: sizes.get(`${row.target.id}/${payload.id}`) ?? 0,
    samples,
    stats: combine(samples),
  };
}

async function report(results: Results): Promise<void> {
  const name = `${stamp}${settings.quick ? '-quick' : ''}.json`;
  const jsonFile = path.join('bench', 'results', name);
  await mkdir(path.join(repo, 'bench', 'results'), { recursive: true });
  await writeFile(path.join(repo, jsonFile), `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${jsonFile}`);
  const partial = settings.only.size < SECTIONS.length || settings.targets !== undefined;
  if (settings.quick || partial) {
    log('quick or partial run: BENCHMARKS.md and the chart are left as they are');
    return;
  }
  await writeReport(results, jsonFile);
}

async function writeReport(results: Results, jsonFile: string): Promise<void> {
  const chart = 'bench/latency-vs-inflight.svg';
  await writeFile(path.join(repo, chart), latencyChart(results));
  await writeFile(path.join(repo, 'BENCHMARKS.md'), renderMarkdown(results, jsonFile, chart));
  log(`wrote BENCHMARKS.md and ${chart}`);
}
