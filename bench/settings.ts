/** Command-line flags and the run settings they select; machine description for the header. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Everything a run is parameterized by. */
export interface Settings {
  readonly quick: boolean;
  /** Only profile the server (32 in flight, read-file 1 KiB) and print its hot spots. */
  readonly profile: boolean;
  /** The payload profiled (`--profile=list-10`); default read-1k. */
  readonly profilePayload: string;
  /** Sections to run (default all): throughput, handshake, renewal, connections, tokens. */
  readonly only: ReadonlySet<string>;
  /** Throughput targets to run (default all; `--targets=echo,server-ws,naive-ws`). */
  readonly targets: ReadonlySet<string> | undefined;
  /** Re-render BENCHMARKS.md and the chart from this results JSON instead of measuring. */
  readonly from: string | undefined;
  readonly reps: number;
  /**
   * Repetitions of the renewal runs: the calls around renewals are judged at p99 pooled over all of
   * them, and a p99 of a few seconds of calls moves with the one or two collections that land near
   * a renewal or not (one repetition: 0.7-2.0 for the same code); pooled over 8 it moves less (two
   * full runs of the same code: 1.27 and 0.92).
   */
  readonly renewalReps: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Bound on completions per measured window. */
  readonly maxRequests: number;
  readonly handshakes: number;
  readonly connectionCounts: readonly number[];
  readonly connectionProcesses: number;
  readonly connectionReps: number;
  readonly tokenRunMs: number;
  readonly tokenLifetimeSeconds: number;
  readonly profileMs: number;
  readonly serverLogLevel: string;
}

/** Every section, in the order they run. */
export const SECTIONS = ['throughput', 'handshake', 'renewal', 'connections', 'tokens'];

/**
 * Parses `--quick`, `--profile`, `--only=a,b`, `--log-level=L` and `--from=file.json`.
 * @throws TypeError on an unknown flag or section.
 */
export function parseSettings(argv: readonly string[]): Settings {
  let quick = false;
  let profile = false;
  let profilePayload = 'read-1k';
  let only = new Set(SECTIONS);
  let serverLogLevel = 'info';
  let from: string | undefined;
  let targets: Set<string> | undefined;
  let counts: number[] | undefined;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--profile') profile = true;
    else if (arg.startsWith('--profile=')) {
      profile = true;
      profilePayload = arg.slice(10);
    } else if (arg.startsWith('--only=')) only = new Set(arg.slice(7).split(','));
    else if (arg.startsWith('--log-level=')) serverLogLevel = arg.slice(12);
    else if (arg.startsWith('--from=')) from = arg.slice(7);
    else if (arg.startsWith('--targets=')) targets = new Set(arg.slice(10).split(','));
    else if (arg.startsWith('--connections=')) counts = arg.slice(14).split(',').map(Number);
    else
      throw new TypeError(
        `unknown flag ${arg} (use --quick, --profile[=payload], --only=${SECTIONS.join(',')}, --log-level=L, --from=results.json, --targets=a,b, --connections=n,m)`,
      );
  }
  for (const s of only) if (!SECTIONS.includes(s)) throw new TypeError(`unknown section ${s}`);
  return {
    quick,
    profile,
    profilePayload,
    only,
    targets,
    from,
    reps: quick ? 2 : 3,
    renewalReps: quick ? 2 : 8,
    warmupMs: quick ? 150 : 400,
    durationMs: quick ? 400 : 1200,
    maxRequests: 1_000_000,
    handshakes: quick ? 200 : 2000,
    connectionCounts: counts ?? (quick ? [200, 1000] : [1000, 10000, 50000]),
    connectionProcesses: 4,
    connectionReps: quick ? 1 : 2,
    tokenRunMs: quick ? 12_000 : 60_000,
    tokenLifetimeSeconds: quick ? 4 : 20,
    profileMs: 5000,
    serverLogLevel,
  };
}

/** The server's Node flags, as its image sets them (mcp-server/Dockerfile `NODE_OPTIONS`; a test keeps them equal). */
export const SERVER_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=8'];

/** Open files the bench wants: the largest connection count on the server, plus its files and the peers'. */
export const WANTED_OPEN_FILES = 70_000;

/**
 * Raises this process's open-files limit (inherited by every child) to `want` with prlimit(1):
 * soft and hard when allowed (root, or CAP_SYS_RESOURCE), else the soft limit up to the hard one.
 * Answers the soft limit now in force; a run that still cannot hold its connections reports them failed.
 */
export function raiseOpenFiles(want = WANTED_OPEN_FILES): string {
  const pid = String(process.pid);
  for (const limit of [`${want}:${want}`, `${want}:`]) {
    try {
      execFileSync('prlimit', ['--pid', pid, `--nofile=${limit}`], { stdio: 'ignore' });
      break;
    } catch {
      // Not allowed (or no prlimit): try the soft limit alone, then keep what there is.
    }
  }
  return maxOpenFiles();
}

/** Soft limit on open files of this process, from /proc/self/limits ("unknown" elsewhere). */
export function maxOpenFiles(): string {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    return line?.split(/\s{2,}/)[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Cores, CPU model, OS and Node version for the report header. */
export function machine(): { cores: number; cpuModel: string; os: string; node: string } {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
  };
}
