/**
 * Child process running the real mcp-server (`startServer`). Logs go to this process's stdout,
 * which the parent points at /dev/null: the server pays for its audit log as in production.
 * Commands: `start(env)`, `memory()`, `profileStart()`, `profileStop(file)`, `gcWatch()`,
 * `gcReport()`. Run with `--expose-gc` so `memory()` can collect first. The threadpool is sized as the entry point
 * (mcp-server/src/main.ts) sizes it in production. `BENCH_SERVER_ROOT` (a checkout of this repository,
 * for bench/ab.ts) serves another version of the server; default this one.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type * as ServerModule from '../mcp-server/src/index.ts';
import type { ServerHandle } from '../mcp-server/src/index.ts';
import { serveCommands } from './child.ts';
import { quantile } from './stats.ts';

const sourceRoot = process.env.BENCH_SERVER_ROOT;
const src = (file: string) =>
  sourceRoot === undefined
    ? new URL(`../mcp-server/src/${file}`, import.meta.url).href
    : pathToFileURL(`${sourceRoot}/mcp-server/src/${file}`).href;
await import(src('threadpool.ts'));
const { loadConfig, startServer } = (await import(src('index.ts'))) as typeof ServerModule;

/** What `start` answers. */
export interface StartedServer {
  readonly wsUrl: string;
  readonly url: string;
  /** The server's own Streamable HTTP endpoint, when it has one. */
  readonly httpUrl?: string;
  readonly pid: number;
}

let server: ServerHandle | undefined;
let inspector: Session | undefined;
let gcWatch: { observer: PerformanceObserver; young: Span[]; full: number } | undefined;

/** The garbage collections this process made while watched: young ones (count, pause p50 and max, ms) and full ones. */
export interface GcReport {
  readonly scavenges: number;
  readonly scavengeP50: number;
  readonly scavengeMax: number;
  readonly full: number;
}

/** [start, duration] in ms, the start in ms since the epoch (`performance.timeOrigin` + now): comparable across processes. */
export type Span = readonly [number, number];

/** What `gcReport` answers: the counts, and when each young collection paused this process. */
export interface GcWatch {
  readonly report: GcReport;
  readonly youngPauses: readonly Span[];
}

serveCommands(
  {
    async start(env: Record<string, string>): Promise<StartedServer> {
      server = await startServer(loadConfig(env));
      await server.ready;
      const { httpUrl } = server as ServerHandle & { httpUrl?: string };
      return { wsUrl: server.wsUrl, url: server.url, pid: process.pid, ...(httpUrl ? { httpUrl } : {}) };
    },
    /** CPU time this process has used so far (user + system), in µs. */
    cpu(): number {
      const { user, system } = process.cpuUsage();
      return user + system;
    },
    /** Collects garbage (when exposed) and answers `process.memoryUsage()`, in bytes (the rows read rss and heapUsed). */
    memory(): NodeJS.MemoryUsage {
      globalThis.gc?.();
      return process.memoryUsage();
    },
    /** Starts counting this process's garbage collections (node's `gc` performance entries). */
    gcWatch(): void {
      gcWatch?.observer.disconnect();
      const watch = { observer: new PerformanceObserver(onGc), young: [] as Span[], full: 0 };
      function onGc(list: {
        getEntries(): readonly { startTime: number; duration: number; detail?: unknown }[];
      }): void {
        for (const entry of list.getEntries()) {
          const kind = (entry.detail as { kind?: number } | undefined)?.kind;
          if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
            watch.young.push([performance.timeOrigin + entry.startTime, entry.duration]);
          } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) watch.full++;
        }
      }
      watch.observer.observe({ entryTypes: ['gc'] });
      gcWatch = watch;
    },
    /** What {@link gcWatch} counted since it started; stops watching. */
    async gcReport(): Promise<GcWatch> {
      const watch = gcWatch;
      if (!watch) throw new Error('gcWatch was not called');
      // Entries are delivered asynchronously: let the last ones arrive.
      await new Promise((resolve) => setTimeout(resolve, 50));
      watch.observer.disconnect();
      gcWatch = undefined;
      const pauses = watch.young.map(([, pause]) => pause);
      // 0 rather than NaN for none: the figures go through JSON.
      const at = (q: number) => (pauses.length === 0 ? 0 : quantile(pauses, q));
      const report = { scavenges: pauses.length, scavengeP50: at(0.5), scavengeMax: at(1), full: watch.full };
      return { report, youngPauses: watch.young };
    },
    async profileStart(): Promise<void> {
      inspector = new Session();
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.setSamplingInterval', { interval: 100 });
      await inspector.post('Profiler.start');
    },
    async profileStop(file: string): Promise<string> {
      if (!inspector) throw new Error('profileStart was not called');
      const { profile } = await inspector.post('Profiler.stop');
      inspector.disconnect();
      inspector = undefined;
      await writeFile(file, JSON.stringify(profile));
      return file;
    },
  },
  async () => {
    await server?.close();
  },
);
