/** The shape of bench/results/<date>.json, shared by the runner and the report. */

import { loadavg } from 'node:os';
import type { LoopResult } from './closed-loop.ts';
import type { ConnectionFigures } from './connections.ts';
import type { HotSpot } from './profile.ts';
import type { GcReport } from './server-process.ts';
import type { RowStats, Sample, Spread } from './stats.ts';
import type { TokenTrafficFigures } from './token-traffic.ts';

/** Machine and settings of a run. */
export interface RunMeta {
  /** ISO 8601 start time. */
  readonly date: string;
  readonly node: string;
  readonly cores: number;
  readonly cpuModel: string;
  readonly os: string;
  /** Node flags of the server under test (its image's `NODE_OPTIONS`); absent before 2026-12-02. */
  readonly serverNodeOptions?: readonly string[];
  /** Soft limit on open files of the benchmark processes. */
  readonly maxOpenFiles: string;
  /** Connection counts left out because the open-files limit cannot hold them (results before 2026-12-02: now spread over server processes). */
  readonly connectionsSkipped?: readonly number[];
  readonly quick: boolean;
  readonly reps: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly serverLogLevel: string;
  /**
   * 1-, 5- and 15-minute load averages when the run started and when it ended: other work on
   * the machine competes with the run for its cores (absent in older results).
   */
  readonly loadBefore?: LoadAverage;
  readonly loadAfter?: LoadAverage;
}

/** Load averages over 1, 5 and 15 minutes (an object, not an array: stays one field per line in the JSON). */
export interface LoadAverage {
  readonly m1: number;
  readonly m5: number;
  readonly m15: number;
}

/** The machine's load averages now. */
export function loadAverage(): LoadAverage {
  const [m1 = 0, m5 = 0, m15 = 0] = loadavg();
  return { m1, m5, m15 };
}

/** One throughput row with its repetitions. */
export interface RowResult {
  readonly key: string;
  readonly target: string;
  readonly targetLabel: string;
  readonly payload: string;
  readonly payloadLabel: string;
  readonly inflight: number;
  /** Bytes of one response (from a captured call). */
  readonly responseBytes: number;
  readonly samples: LoopResult[];
  readonly stats: RowStats;
}

/** Handshake row. */
export interface HandshakeResult {
  readonly count: number;
  readonly samples: Sample[];
  readonly p50: Spread;
  readonly p99: Spread;
  /** The ceiling: connect + first answer from the bare ws echo, same count (runs before 2026-12-02 lack it). */
  readonly echo?: { readonly p50: Spread; readonly p99: Spread };
  /**
   * The same, opened the 2026-07-28 way (`server/discover` instead of `initialize`, the figures
   * above); absent in runs before 2026-12-02.
   */
  readonly modern?: { readonly samples: Sample[]; readonly p50: Spread; readonly p99: Spread };
  /** The client that timed them: `raw` (bench/raw-ws.ts, ready-made bytes); absent: the `ws` client (runs before 2026-12-03). */
  readonly client?: 'raw';
  /** The three kinds alternated handshake by handshake; absent: each timed in a block of `count` (runs before 2026-12-03 11:00). */
  readonly interleaved?: true;
  /** The server's garbage collections during the server's handshakes (both eras; absent before 2026-12-03 13:00). */
  readonly gc?: GcReport;
  /** The handshakes over the goal's bound, per kind (absent before 2026-12-03 18:15). */
  readonly slow?: SlowHandshakes;
}

/** Of `of` handshakes of one kind, `over` took longer than the bound; `duringServerGc` of them overlapped a young collection of the server. */
export interface SlowCount {
  readonly of: number;
  readonly over: number;
  readonly duringServerGc: number;
}

/**
 * The handshakes slower than `boundMs`, summed over the repetitions: ours per era, and the bare
 * echo's, the machine's own share (a server collection cannot slow the echo, another process: its
 * `duringServerGc` is what coincidence alone gives).
 */
export interface SlowHandshakes {
  readonly boundMs: number;
  readonly legacy: SlowCount;
  readonly modern: SlowCount;
  readonly echo: SlowCount;
}

/** In-band renewal (`auth/renew`) figures over the repetitions (bench/renewal.ts). */
export interface RenewalFigures {
  /** Sequential renewals per repetition on an idle connection. */
  readonly count: number;
  /** Idle renewal latency (server time + one loopback round trip), in ms. */
  readonly idleP50: Spread;
  readonly idleP99: Spread;
  /** Calls in flight during the loaded runs, and one renewal every `intervalMs`. */
  readonly inflight: number;
  readonly intervalMs: number;
  /** p99 of the calls without renewals and with them, in ms, over the loaded runs. */
  readonly callP99Without: Spread;
  readonly callP99With: Spread;
  /** Loaded runs per side (alternated without / with); absent in results before it was recorded (one per repetition). */
  readonly loadedRuns?: number;
  /**
   * p99 with renewals over p99 without, per adjacent pair of runs: the paired comparison (a single
   * window's p99 is bimodal here, so the two sides' medians can differ on noise alone). Absent in older results.
   */
  readonly pairedP99Ratio?: Spread;
  /** Renewals answered with an error (summed). */
  readonly refused: number;
  /**
   * The calls sent around a renewal (bench/renewal.ts) and, the controls, around a tick of the same
   * timer in the runs without renewals and around the silent ticks between renewals in the same runs,
   * each pooled over the repetitions: how many, their p90 and p99 in ms. Absent in older results; the
   * same-run control in results before 2026-12-03 13:30, the p90s before 14:30.
   */
  readonly around?: {
    readonly count: number;
    readonly p90?: number;
    readonly p99: number;
    readonly controlCount: number;
    readonly controlP99: number;
    readonly sameRunCount?: number;
    readonly sameRunP90?: number;
    readonly sameRunP99?: number;
    /**
     * Around the renewals with the connection's own token, answered from memory (no signature
     * check), in the same runs: the control for the check itself (absent before 2026-12-03 18:15).
     */
    readonly rememberedCount?: number;
    readonly rememberedP90?: number;
    readonly rememberedP99?: number;
  };
}

/** Everything a run produced. */
export interface Results {
  readonly meta: RunMeta;
  readonly rows: RowResult[];
  readonly handshake?: HandshakeResult;
  readonly renewal?: RenewalFigures;
  readonly connections?: ConnectionFigures[];
  readonly tokenTraffic?: TokenTrafficFigures;
  readonly profile?: { readonly file: string; readonly top: HotSpot[] };
}
