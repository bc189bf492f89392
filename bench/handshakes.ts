/**
 * The handshake row: sequential connect + token check + initialize on the server, interleaved with
 * the ceiling, connect + one answer from the bare ws echo (no token, no MCP): the floor this
 * machine puts under any handshake.
 */
import type { Child } from './child.ts';
import type { HandshakeResult } from './results.ts';
import { type Sample, spread } from './stats.ts';

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
  const echoSamples: Sample[] = [];
  const args = { token: o.token, count: o.count, maxMs: 30_000 };
  try {
    for (let rep = 0; rep < o.reps; rep++) {
      samples.push(await o.loadWs.call<Sample>('handshake', { ...args, url: o.serverUrl }));
      echoSamples.push(await o.loadWs.call<Sample>('handshake', { ...args, url: echoUrl }));
    }
  } finally {
    await o.echo.stop();
  }
  const echo = { p50: spread(echoSamples.map((s) => s.p50)), p99: spread(echoSamples.map((s) => s.p99)) };
  const result = {
    count: o.count,
    samples,
    p50: spread(samples.map((s) => s.p50)),
    p99: spread(samples.map((s) => s.p99)),
    echo,
  };
  o.log(
    `handshake p50 ${result.p50.median.toFixed(3)} ms, p99 ${result.p99.median.toFixed(3)} ms ` +
      `(bare ws echo: p50 ${echo.p50.median.toFixed(3)}, p99 ${echo.p99.median.toFixed(3)})`,
  );
  return result;
}
