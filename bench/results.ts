/** The shape of bench/results/<date>.json, shared by the runner and the report. */
import type { LoopResult } from './closed-loop.ts';
import type { ConnectionFigures } from './connections.ts';
import type { HotSpot } from './profile.ts';
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
  /** Soft limit on open files of the benchmark processes. */
  readonly maxOpenFiles: string;
  readonly quick: boolean;
  readonly reps: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly serverLogLevel: string;
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
}

/** Everything a run produced. */
export interface Results {
  readonly meta: RunMeta;
  readonly rows: RowResult[];
  readonly handshake?: HandshakeResult;
  readonly connections?: ConnectionFigures[];
  readonly tokenTraffic?: TokenTrafficFigures;
  readonly profile?: { readonly file: string; readonly top: HotSpot[] };
}
