// Continuous traffic through the load balancer while the failover test breaks things, and the
// figures per event: calls made, failed, the longest time a stream went without a success, and the
// reconnects its client reported. Streams: WebSocket clients (2026-07-28), one Streamable HTTP
// client per era (2026-07-28 stateless, 2025-11-25 with a session), and a token loop (client
// credentials against Keycloak through the load balancer).
import { setTimeout as delay } from 'node:timers/promises';
import { ClientCredentialsTokenSource, isClientError, ResilientClient } from 'mcp-client';
import { waitUntil } from '../support/wait.ts';

/** What one stream does once; resolves when it succeeded, throws when it failed. */
type Step = () => Promise<void>;

interface Outcome {
  readonly at: number;
  readonly ok: boolean;
  readonly error?: string | undefined;
}

/** A stream's figures over one event's time span. */
export interface StreamFigures {
  readonly calls: number;
  readonly failed: number;
  /** Longest time without a successful completion (from the span's start, between successes, to its end), ms. */
  readonly longestGapMs: number;
  readonly reconnects: number;
  /** The distinct errors of the failed calls (code: message). */
  readonly errors: readonly string[];
}

/** One event (a time span) and every stream's figures over it. */
export interface EventFigures {
  readonly event: string;
  readonly durationMs: number;
  readonly streams: Readonly<Record<string, StreamFigures>>;
}

class Stream {
  readonly outcomes: Outcome[] = [];
  readonly reconnects: number[] = [];
  readonly name: string;
  readonly step: Step;
  readonly close: () => Promise<void>;
  constructor(name: string, step: Step, close: () => Promise<void>) {
    this.name = name;
    this.step = step;
    this.close = close;
  }

  figures(from: number, to: number): StreamFigures {
    const inSpan = this.outcomes.filter((o) => o.at >= from && o.at < to);
    let last = from;
    let gap = 0;
    for (const o of inSpan) {
      if (!o.ok) continue;
      gap = Math.max(gap, o.at - last);
      last = o.at;
    }
    gap = Math.max(gap, to - last);
    const failed = inSpan.filter((o) => !o.ok);
    return {
      calls: inSpan.length,
      failed: failed.length,
      longestGapMs: gap,
      reconnects: this.reconnects.filter((t) => t >= from && t < to).length,
      errors: [...new Set(failed.map((o) => o.error ?? 'unknown'))],
    };
  }
}

/** Where the traffic goes and with which credentials. */
export interface LoadTarget {
  readonly mcpUrl: string;
  readonly issuer: string;
  readonly clientSecret: string;
  /** WebSocket clients (spread over the replicas by leastconn). Default 3. */
  readonly wsClients?: number;
  /**
   * Pause between two steps of one stream, ms. Default 60: all streams use one client id, and after
   * the failovers every WebSocket may sit on one replica; 5 call streams at <= ~16 calls/s each stay
   * under that replica's per-client RATE_LIMIT_CALLS_PER_SECOND (100), which is not under test here.
   */
  readonly pauseMs?: number;
}

function describeError(err: unknown): string {
  if (isClientError(err)) return `${err.code}: ${err.message}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Runs the streams until {@link stop}; {@link figures} slices what happened by time span. */
export class Load {
  readonly #streams: Stream[];
  readonly #stop = new AbortController();
  readonly #pauseMs: number;
  #loops: Promise<void>[] = [];

  private constructor(streams: Stream[], pauseMs: number) {
    this.#streams = streams;
    this.#pauseMs = pauseMs;
  }

  /** Connects every client (WebSockets first, so leastconn spreads them one per replica) and starts. */
  static async start(target: LoadTarget): Promise<Load> {
    const tokenSource = () =>
      new ClientCredentialsTokenSource({
        issuer: target.issuer,
        clientId: 'mcp-client',
        clientSecret: target.clientSecret,
        resource: target.mcpUrl,
        scope: 'file.read file.list',
      });
    const streams: Stream[] = [];
    const mcp = async (name: string, url: string, protocol: '2026-07-28' | '2025-11-25') => {
      let stream: Stream | undefined;
      const client = await ResilientClient.connect({
        url,
        protocol,
        tokenSource: tokenSource(),
        requestTimeoutMs: 15_000,
        onEvent: (e) => {
          if (e.type === 'reconnected') stream?.reconnects.push(Date.now());
        },
      });
      stream = new Stream(
        name,
        async () => {
          const r = await client.callTool('read-file', { filePath: 'sample1.txt' });
          if (r.isError) throw new Error(`tool error: ${JSON.stringify(r.content).slice(0, 200)}`);
        },
        () => client.close(),
      );
      streams.push(stream);
    };
    const ws = target.mcpUrl.replace(/^http/, 'ws');
    for (let i = 1; i <= (target.wsClients ?? 3); i++) await mcp(`ws-${i}`, ws, '2026-07-28');
    await mcp('http-2026', target.mcpUrl, '2026-07-28');
    await mcp('http-2025', target.mcpUrl, '2025-11-25');
    const tokens = tokenSource();
    streams.push(
      new Stream(
        'tokens',
        async () => {
          await tokens.getToken({ forceRefresh: true });
        },
        async () => undefined,
      ),
    );
    const load = new Load(streams, target.pauseMs ?? 60);
    load.#loops = streams.map((s) => load.#run(s));
    return load;
  }

  async #run(stream: Stream): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        await stream.step();
        stream.outcomes.push({ at: Date.now(), ok: true });
      } catch (err) {
        if (this.#stop.signal.aborted) break;
        stream.outcomes.push({ at: Date.now(), ok: false, error: describeError(err) });
      }
      await delay(this.#pauseMs, undefined, { signal: this.#stop.signal }).catch(() => undefined);
    }
  }

  /**
   * Waits until every stream has `perStream` successes since `from` (epoch ms): a window of traffic
   * measured by what happened, not by a fixed time.
   */
  async soak(from: number, perStream: number, timeoutMs: number): Promise<void> {
    await waitUntil(
      () => this.#streams.every((s) => s.outcomes.filter((o) => o.ok && o.at >= from).length >= perStream),
      timeoutMs,
      100,
      `${perStream} successes on every stream`,
    );
  }

  /** Every stream's figures between `from` and `to` (epoch ms). */
  figures(event: string, from: number, to: number): EventFigures {
    const streams: Record<string, StreamFigures> = {};
    for (const s of this.#streams) streams[s.name] = s.figures(from, to);
    return { event, durationMs: to - from, streams };
  }

  /** Ends the loops (the call in flight finishes) and closes the clients. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#loops);
    await Promise.allSettled(this.#streams.map((s) => s.close()));
  }
}

/** Sums of an event's streams: MCP calls (every stream but tokens) and token requests. */
export function totals(e: EventFigures): { calls: number; failed: number; tokens: number; tokenFailures: number } {
  let calls = 0;
  let failed = 0;
  for (const [name, f] of Object.entries(e.streams)) {
    if (name === 'tokens') continue;
    calls += f.calls;
    failed += f.failed;
  }
  const t = e.streams.tokens;
  return { calls, failed, tokens: t?.calls ?? 0, tokenFailures: t?.failed ?? 0 };
}
