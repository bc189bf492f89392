/**
 * The handshake rows: sequential connect + token check + first exchange on the server, in each
 * era (2025-11-25 `initialize`, 2026-07-28 `server/discover`), interleaved handshake by handshake
 * with the ceiling, connect + one answer from the bare ws echo (no token check, no MCP): the floor
 * this machine puts under any handshake, measured in the same moments as ours. Every handshake is
 * timed by the raw client of the load generator (bench/raw-ws.ts), so the figures are the server's
 * and the wire's, not the `ws` client's; the server's garbage collections meanwhile are counted.
 */
import type { Child } from './child.ts';
import type { HandshakeTarget, HandshakeTimes } from './load-ws.ts';
import type { HandshakeResult, SlowHandshakes } from './results.ts';
import type { GcWatch, Span } from './server-process.ts';
import { type Sample, type Spread, spread } from './stats.ts';

/** The goal's bound: handshakes slower than this are counted one by one, in ms. */
export const SLOW_HANDSHAKE_MS = 2;

/** How many of `handshakes` ([start, ms]) overlap one of `pauses` ([start, ms]). */
export function countOverlapping(handshakes: readonly Span[], pauses: readonly Span[]): number {
  let count = 0;
  for (const [start, ms] of handshakes) {
    if (pauses.some(([at, pause]) => at < start + ms && at + pause > start)) count++;
  }
  return count;
}

/** Options of {@link measureHandshakes}. */
export interface HandshakeOptions {
  readonly serverUrl: string;
  /** The server's process (bench/server-process.ts): its garbage collections are counted meanwhile. */
  readonly serverProc: Child;
  readonly token: string;
  /** The WebSocket load generator (its `handshakes` command). */
  readonly loadWs: Child;
  /** A started-to-be echo child (bench/echo-server.ts); stopped here. */
  readonly echo: Child;
  readonly count: number;
  readonly reps: number;
  readonly log: (line: string) => void;
}

export async function measureHandshakes(o: HandshakeOptions): Promise<HandshakeResult> {
  const echoUrl = await o.echo.call<string>('start');
  await o.echo.call('setReply', '{"jsonrpc":"2.0","id":0,"result":{}}');
  const samples: Sample[] = [];
  const modernSamples: Sample[] = [];
  const echoSamples: Sample[] = [];
  const slow: Span[][] = [[], [], []];
  // The echo gets the same upgrade request, token included (it checks none): same bytes on the wire.
  const targets: HandshakeTarget[] = [
    { url: o.serverUrl, token: o.token, era: 'legacy' },
    { url: o.serverUrl, token: o.token, era: 'modern' },
    { url: echoUrl, token: o.token },
  ];
  await o.serverProc.call('gcWatch');
  try {
    for (let rep = 0; rep < o.reps; rep++) {
      const times = await o.loadWs.call<HandshakeTimes[]>('handshakes', {
        targets,
        count: o.count,
        maxMs: 90_000,
        slowMs: SLOW_HANDSHAKE_MS,
      });
      const [legacy, modern, echo] = times.map((t) => t.sample);
      samples.push(legacy!);
      modernSamples.push(modern!);
      echoSamples.push(echo!);
      for (const [k, t] of times.entries()) slow[k]!.push(...t.slow);
    }
  } finally {
    await o.echo.stop();
  }
  const { report: gc, youngPauses } = await o.serverProc.call<GcWatch>('gcReport');
  const count = (k: number, of: Sample[]) => ({
    of: of.reduce((sum, x) => sum + x.count, 0),
    over: slow[k]!.length,
    duringServerGc: countOverlapping(slow[k]!, youngPauses),
  });
  const slowHandshakes: SlowHandshakes = {
    boundMs: SLOW_HANDSHAKE_MS,
    legacy: count(0, samples),
    modern: count(1, modernSamples),
    echo: count(2, echoSamples),
  };
  const percentiles = (xs: Sample[]) => ({ p50: spread(xs.map((s) => s.p50)), p99: spread(xs.map((s) => s.p99)) });
  const echo = percentiles(echoSamples);
  const modern = { samples: modernSamples, ...percentiles(modernSamples) };
  const result = {
    count: o.count,
    samples,
    ...percentiles(samples),
    modern,
    echo,
    client: 'raw' as const,
    interleaved: true as const,
    gc,
    slow: slowHandshakes,
  };
  const pair = (x: { p50: Spread; p99: Spread }) =>
    `p50 ${x.p50.median.toFixed(3)} ms, p99 ${x.p99.median.toFixed(3)} ms`;
  o.log(`handshake 2025-11-25 ${pair(result)}; 2026-07-28 ${pair(modern)} (bare ws echo: ${pair(echo)})`);
  o.log(
    `handshake server GC: ${gc.scavenges} scavenges (pause p50 ${gc.scavengeP50.toFixed(2)} ms, max ` +
      `${gc.scavengeMax.toFixed(2)} ms), ${gc.full} full, over ${2 * o.count * o.reps} handshakes`,
  );
  const slowLine = (c: SlowHandshakes['echo']) => `${c.over} of ${c.of} (${c.duringServerGc} during a server GC)`;
  o.log(
    `handshakes over ${SLOW_HANDSHAKE_MS} ms: 2025-11-25 ${slowLine(slowHandshakes.legacy)}, 2026-07-28 ` +
      `${slowLine(slowHandshakes.modern)}, bare ws echo ${slowLine(slowHandshakes.echo)}`,
  );
  return result;
}
