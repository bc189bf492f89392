/**
 * "What changed and what it gained": each change of the WebSocket hot path with its A/B figures,
 * measured with bench/ab.ts (the commit before against the commit, interleaved rounds, medians).
 * Recorded here because the figures compare two versions of the server, which one run of
 * `npm run bench` cannot do; BENCHMARKS.md renders them as they are.
 */

/** One row of a change's A/B: the figure before and after. */
export interface AbFigure {
  /** Row, e.g. `read-file 1 KiB, 32 in flight`. */
  readonly row: string;
  /** What is compared, with its unit, e.g. `server CPU µs/call`. */
  readonly figure: string;
  readonly before: number;
  readonly after: number;
}

/** One change. */
export interface Change {
  readonly change: string;
  readonly commit: string;
  /** How it was measured: rounds, window, machine load. */
  readonly method: string;
  readonly figures: readonly AbFigure[];
}

export const CHANGES: readonly Change[] = [
  {
    change:
      'read-file: open-file cache (descriptor held up to 1 s, every hit re-proved inline by /proc/self/fd and fstat): ' +
      'no realpath or open, so one threadpool trip per read instead of three',
    commit: '68ba01b',
    method: 'bench/ab.ts, 5 interleaved rounds of 0.8 s, load average 12',
    figures: [
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call', before: 148.6, after: 121.3 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'calls/s', before: 4076, after: 7463 },
      { row: 'read-file 1 KiB, 1 in flight', figure: 'server CPU µs/call', before: 363.2, after: 270.0 },
      { row: 'read-file 1 KiB, 1 in flight', figure: 'p50 ms', before: 0.393, after: 0.319 },
    ],
  },
];
