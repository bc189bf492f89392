/**
 * The connection rows: N concurrent authenticated, opened WebSocket connections (either era) held by
 * several load processes (each with its own 127.0.x.y source address), then calls spread over
 * them. Reports time to open, server memory per connection and calls/s. A count one server
 * process cannot hold (its open-files limit) is spread evenly over as many server processes as it
 * takes, as replicas behind a load balancer would hold it; memory is then summed over them.
 */
import { readFile } from 'node:fs/promises';
import { type Child, startChild } from './child.ts';
import type { LoopResult } from './closed-loop.ts';
import type { OpenManyResult } from './load-conns.ts';
import { type Spread, spread } from './stats.ts';
import type { Era, ToolCall } from './wire.ts';

/** Options of {@link measureConnections}. */
export interface ConnectionOptions {
  /** Signs a token per load process. */
  readonly token: () => Promise<string>;
  /**
   * Starts a fresh server process (so RSS growth is not absorbed by memory an earlier row left
   * committed); it must answer `memory` (GC first). Stopped after each repetition.
   */
  readonly startServer: () => Promise<{ readonly child: Child; readonly wsUrl: string }>;
  /** Connection counts to measure, e.g. [1000, 5000, 10000]. */
  readonly counts: readonly number[];
  /** Connections one server process can hold (its open-files limit); a larger count gets more processes. */
  readonly maxPerServer: number;
  /** How the connections open (wire.ts `greet`): 2025-11-25 `initialize` or 2026-07-28 `server/discover`. */
  readonly era: Era;
  /** Load processes sharing the connections. */
  readonly processes: number;
  readonly reps: number;
  /** The call spread over the connections, with its requests in flight (over all processes). */
  readonly call: ToolCall;
  readonly inflight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  readonly log: (line: string) => void;
}

/** Figures of one connection count, over the repetitions. */
export interface ConnectionFigures {
  readonly connections: number;
  /** Server processes holding them, evenly (absent: one). */
  readonly servers?: number;
  /** How they were opened; absent in results before 2026-12-02 (legacy: `initialize`). */
  readonly era?: Era;
  /** Wall time to open and initialize all of them, in ms. */
  readonly openMs: Spread;
  /** Server VmRSS growth per connection, in bytes (fresh server, after a GC, before vs with all open). */
  readonly rssPerConnection: Spread;
  /** Server V8 heap growth per connection, in bytes. */
  readonly heapPerConnection: Spread;
  readonly callsPerSecond: Spread;
  /** Median of the load processes' p50, in ms. */
  readonly p50: Spread;
  /** Worst of the load processes' p99, in ms. */
  readonly p99: Spread;
  /** Connections that failed to open (summed over the repetitions), and the first reason. */
  readonly failed: number;
  readonly error?: string;
}

/** VmRSS of process `pid`, in bytes (from /proc/<pid>/status). */
export async function vmRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/** VmRSS and V8 heap in use, summed over `servers` (each collects garbage first). */
async function serverMemory(servers: readonly Child[]): Promise<{ rss: number; heapUsed: number }> {
  let rss = 0;
  let heapUsed = 0;
  for (const server of servers) {
    heapUsed += (await server.call<{ heapUsed: number }>('memory')).heapUsed;
    rss += await vmRss(server.pid);
  }
  return { rss, heapUsed };
}

const CONNTRACK = '/proc/sys/net/netfilter/nf_conntrack_';
/** Longest wait for the kernel's connection-tracking table, in ms (its TIME_WAIT entries live 120 s). */
const CONNTRACK_WAIT_MS = 150_000;

/** Entries in use and the size of the kernel's connection-tracking table; undefined without netfilter. */
async function conntrack(): Promise<{ count: number; max: number } | undefined> {
  try {
    const [count, max] = await Promise.all(['count', 'max'].map((f) => readFile(`${CONNTRACK}${f}`, 'utf8')));
    return { count: Number(count), max: Number(max) };
  } catch {
    return undefined;
  }
}

/**
 * Waits until the connection-tracking table (loaded with netfilter, e.g. by Docker) has room for
 * `needed` more connections: a full table drops new SYNs, which the bench would report as the
 * server's failures. Closed connections stay in it 120 s.
 */
async function conntrackRoom(needed: number, log: (line: string) => void): Promise<void> {
  const t0 = performance.now();
  for (let first = true; ; first = false) {
    const table = await conntrack();
    if (table === undefined || table.count + needed <= table.max * 0.9) break;
    if (first) log(`  waiting for the kernel's connection-tracking table (${table.count} of ${table.max} in use)`);
    if (performance.now() - t0 > CONNTRACK_WAIT_MS) break;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

let addressBlock = 0;
/** The third octet of the next measurement's source addresses (127.<server>.<it>.<load process>). */
function nextAddressBlock(): number {
  addressBlock = (addressBlock % 250) + 1;
  return addressBlock;
}

/** `total` split in `parts` shares that differ by at most one. */
function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** Measures every count in `options.counts`; load processes are started and stopped here. */
export async function measureConnections(options: ConnectionOptions): Promise<ConnectionFigures[]> {
  const loads = Array.from({ length: options.processes }, () =>
    startChild(new URL('./load-conns.ts', import.meta.url), { execArgv: ['--max-old-space-size=2048'] }),
  );
  const figures: ConnectionFigures[] = [];
  try {
    for (const count of options.counts) {
      const open: number[] = [];
      const rss: number[] = [];
      const heap: number[] = [];
      const rate: number[] = [];
      const p50: number[] = [];
      const p99: number[] = [];
      let failed = 0;
      let error: string | undefined;
      const serverCount = Math.max(1, Math.ceil(count / options.maxPerServer));
      for (let rep = 0; rep < options.reps; rep++) {
        await conntrackRoom(count, options.log);
        const servers = await Promise.all(Array.from({ length: serverCount }, () => options.startServer()));
        // Source addresses of their own: the ports of earlier rows linger in TIME_WAIT on theirs.
        const block = nextAddressBlock();
        const before = await serverMemory(servers.map((s) => s.child));
        const t0 = performance.now();
        // Each load process spreads its share evenly over the servers.
        const opened = (
          await Promise.all(
            shares(count, loads.length).map(async (share, i) => {
              const token = await options.token();
              const results: OpenManyResult[] = [];
              for (const [s, n] of shares(share, servers.length).entries()) {
                const url = servers[s]!.wsUrl;
                results.push(
                  await loads[i]!.call<OpenManyResult>('open', {
                    url,
                    token,
                    count: n,
                    // One per load process and server: a socket bound to a source address takes its port
                    // before it connects, from the ports of every destination; fewer per address, a shorter search.
                    localAddress: `127.${1 + s}.${block}.${2 + i}`,
                    concurrency: 32,
                    era: options.era,
                  }),
                );
              }
              return results;
            }),
          )
        ).flat();
        open.push(performance.now() - t0);
        const total = opened.reduce((n, o) => n + o.opened, 0);
        failed += opened.reduce((n, o) => n + o.failed, 0);
        error ??= opened.find((o) => o.error)?.error;
        const after = await serverMemory(servers.map((s) => s.child));
        rss.push((after.rss - before.rss) / Math.max(1, total));
        heap.push((after.heapUsed - before.heapUsed) / Math.max(1, total));
        const perLoad = Math.max(1, Math.round(options.inflight / loads.length));
        const runs = await Promise.all(
          loads.map((load) =>
            load.call<LoopResult>('run', {
              call: options.call,
              inflight: perLoad,
              warmupMs: options.warmupMs,
              durationMs: options.durationMs,
              maxRequests: options.maxRequests,
            }),
          ),
        );
        rate.push(runs.reduce((n, r) => n + r.perSecond, 0));
        p50.push(spread(runs.map((r) => r.p50)).median);
        p99.push(Math.max(...runs.map((r) => r.p99)));
        await Promise.all(loads.map((load) => load.call<number>('close')));
        await Promise.all(servers.map((s) => s.child.stop()));
        options.log(
          `  ${count} connections (${options.era}, ${serverCount} server process${serverCount > 1 ? 'es' : ''}) ` +
            `rep ${rep + 1}: opened ${total} in ${Math.round(open.at(-1)!)} ms, ` +
            `${Math.round(rss.at(-1)! / 1024)} KiB RSS/conn, ${Math.round(rate.at(-1)!)} calls/s`,
        );
      }
      figures.push({
        connections: count,
        ...(serverCount > 1 ? { servers: serverCount } : {}),
        era: options.era,
        openMs: spread(open),
        rssPerConnection: spread(rss),
        heapPerConnection: spread(heap),
        callsPerSecond: spread(rate),
        p50: spread(p50),
        p99: spread(p99),
        failed,
        ...(error ? { error } : {}),
      });
    }
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
  }
  return figures;
}
