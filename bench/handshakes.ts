/**
 * The handshake rows: sequential connect + token check + first exchange on the server, in each
 * era (2025-11-25 `initialize`, 2026-07-28 `server/discover`), interleaved with the ceiling,
 * connect + one answer from the bare ws echo (no token, no MCP): the floor this machine puts
 * under any handshake. Every handshake is timed by the raw client of the load generator
 * (bench/raw-ws.ts), so the figures are the server's and the wire's, not the `ws` client's.
 */
import type { Child } from './child.ts';
import type { HandshakeResult } from './results.ts';
import { type Sample, type Spread, spread } from './stats.ts';

/** Options of {@link measureHandshakes}. */
export interface HandshakeOptions {
  readonly serverUrl: string;
  readonly token: string;
  /** The WebSocket load generator (its `handshake` command). */
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
  const args = { token: o.token, count: o.count, maxMs: 30_000 };
  try {
    for (let rep = 0; rep < o.reps; rep++) {
      samples.push(await o.loadWs.call<Sample>('handshake', { ...args, url: o.serverUrl, era: 'legacy' }));
      modernSamples.push(await o.loadWs.call<Sample>('handshake', { ...args, url: o.serverUrl, era: 'modern' }));
      echoSamples.push(await o.loadWs.call<Sample>('handshake', { ...args, url: echoUrl }));
    }
  } finally {
    await o.echo.stop();
  }
  const percentiles = (xs: Sample[]) => ({ p50: spread(xs.map((s) => s.p50)), p99: spread(xs.map((s) => s.p99)) });
  const echo = percentiles(echoSamples);
  const modern = { samples: modernSamples, ...percentiles(modernSamples) };
  const result = { count: o.count, samples, ...percentiles(samples), modern, echo, client: 'raw' as const };
  const pair = (x: { p50: Spread; p99: Spread }) =>
    `p50 ${x.p50.median.toFixed(3)} ms, p99 ${x.p99.median.toFixed(3)} ms`;
  o.log(`handshake 2025-11-25 ${pair(result)}; 2026-07-28 ${pair(modern)} (bare ws echo: ${pair(echo)})`);
  return result;
}
