/**
 * The handshake rows: sequential connect + token check + first exchange on the server, in each
 * era (2025-11-25 `initialize`, 2026-07-28 `server/discover`), interleaved handshake by handshake
 * with the ceiling, connect + one answer from the bare ws echo (no token check, no MCP): the floor
 * this machine puts under any handshake, measured in the same moments as ours. Every handshake is
 * timed by the raw client of the load generator (bench/raw-ws.ts), so the figures are the server's
 * and the wire's, not the `ws` client's; the server's garbage collections meanwhile are counted.
 */
import type { Child } from './child.ts';
import type { HandshakeTarget } from './load-ws.ts';
import type { HandshakeResult } from './results.ts';
import type { GcReport } from './server-process.ts';
import { type Sample, type Spread, spread } from './stats.ts';

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
  // The echo gets the same upgrade request, token included (it checks none): same bytes on the wire.
  const targets: HandshakeTarget[] = [
    { url: o.serverUrl, token: o.token, era: 'legacy' },
    { url: o.serverUrl, token: o.token, era: 'modern' },
    { url: echoUrl, token: o.token },
  ];
  await o.serverProc.call('gcWatch');
  try {
    for (let rep = 0; rep < o.reps; rep++) {
      const [legacy, modern, echo] = await o.loadWs.call<Sample[]>('handshakes', {
        targets,
        count: o.count,
        maxMs: 90_000,
      });
      samples.push(legacy!);
      modernSamples.push(modern!);
      echoSamples.push(echo!);
    }
  } finally {
    await o.echo.stop();
  }
  const gc = await o.serverProc.call<GcReport>('gcReport');
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
  };
  const pair = (x: { p50: Spread; p99: Spread }) =>
    `p50 ${x.p50.median.toFixed(3)} ms, p99 ${x.p99.median.toFixed(3)} ms`;
  o.log(`handshake 2025-11-25 ${pair(result)}; 2026-07-28 ${pair(modern)} (bare ws echo: ${pair(echo)})`);
  o.log(
    `handshake server GC: ${gc.scavenges} scavenges (pause p50 ${gc.scavengeP50.toFixed(2)} ms, max ` +
      `${gc.scavengeMax.toFixed(2)} ms), ${gc.full} full, over ${2 * o.count * o.reps} handshakes`,
  );
  return result;
}
