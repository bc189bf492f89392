/**
 * Child process: WebSocket load generator. Sends raw pre-serialized JSON-RPC frames over one
 * `ws` connection (not the SDK client), so the figures are the server's.
 * Commands: `capture`, `run`, `handshakes`, `renewals`.
 */
import { serveCommands } from './child.ts';
import { createLoop, type LoopOptions, type LoopResult } from './closed-loop.ts';
import { clientFrame, RawWs, upgradeRequest } from './raw-ws.ts';
import { measureRenewals, type RenewalArgs, type RenewalResult } from './renewal.ts';
import type { Span } from './server-process.ts';
import { type Sample, summarize } from './stats.ts';
import {
  closeWs,
  type Era,
  frameId,
  greeting,
  initialize,
  openWs,
  requestOnce,
  type ToolCall,
  toolCallFrames,
} from './wire.ts';

/** Arguments of `capture` and `run`. */
export interface WsTarget {
  readonly url: string;
  readonly token?: string | undefined;
  /** Send initialize first (2025-11-25 MCP servers); the echo ceiling and 2026-07-28 skip it. */
  readonly initialize: boolean;
  /** 2026-07-28: every request carries the `_meta` envelope (the first one selects the era). */
  readonly modern?: boolean;
  readonly call: ToolCall;
}

/** Arguments of `run`. */
export interface WsRunArgs extends WsTarget, LoopOptions {}

/** One kind of handshake `handshakes` times: where, with which token, and its first exchange. */
export interface HandshakeTarget {
  readonly url: string;
  /** Undefined: no `Authorization` (the echo ceiling). */
  readonly token?: string | undefined;
  /** The first exchange: `initialize` (legacy, the default) or `server/discover` (modern). */
  readonly era?: Era;
}

/** Arguments of `handshakes`. */
export interface HandshakeArgs {
  readonly targets: readonly HandshakeTarget[];
  /** Handshakes to time per target, one after the other. */
  readonly count: number;
  /** Stop early after this long, in ms. */
  readonly maxMs: number;
  /** Handshakes slower than this are also answered one by one (`slow`), in ms. Default: none. */
  readonly slowMs?: number;
}

/** What `handshakes` answers per target. */
export interface HandshakeTimes {
  readonly sample: Sample;
  /**
   * Each handshake slower than `slowMs`: [start, ms], the start in ms since the epoch
   * (`performance.timeOrigin` + now), to be lined up with the server's garbage collections.
   */
  readonly slow: readonly Span[];
}

/** A handshake made of ready-made bytes: the upgrade request, the first request and what follows its answer. */
function handshakeBytes(target: HandshakeTarget) {
  const url = new URL(target.url);
  const first = greeting(target.era ?? 'legacy');
  return {
    url,
    upgrade: upgradeRequest(url, target.token),
    request: clientFrame(first.request),
    followUp: first.followUp === undefined ? undefined : clientFrame(first.followUp),
  };
}

/** One connect + upgrade + first exchange, timed from connect to its answer (the close not timed). */
async function timeHandshake(h: ReturnType<typeof handshakeBytes>): Promise<number> {
  const t0 = performance.now();
  const ws = await RawWs.open(h.url, h.upgrade);
  const answer = await ws.request(h.request, (payload) => frameId(payload) === 0);
  const ms = performance.now() - t0;
  if (!answer.includes('"result"')) throw new Error(`the first request failed: ${answer.toString().slice(0, 200)}`);
  if (h.followUp) ws.send(h.followUp);
  await ws.close();
  return ms;
}

async function connect(target: WsTarget) {
  const ws = await openWs(target.url, { token: target.token });
  if (target.initialize) await initialize(ws);
  return ws;
}

serveCommands({
  /** One call; answers the raw response text (to check it and to size the echo reply). */
  async capture(target: WsTarget): Promise<string> {
    const ws = await connect(target);
    try {
      return await requestOnce(ws, toolCallFrames(target.call, target.modern), 1);
    } finally {
      await closeWs(ws);
    }
  },

  async run(args: WsRunArgs): Promise<LoopResult> {
    const ws = await connect(args);
    const frames = toolCallFrames(args.call, args.modern);
    const loop = createLoop(args);
    ws.on('message', (data: Buffer) => loop.complete(frameId(data), data.length));
    ws.once('close', (code) => loop.abort(new Error(`connection closed (${code}) during the run`)));
    try {
      return await loop.start((id) => ws.send(frames(id)));
    } finally {
      await closeWs(ws);
    }
  },

  /** In-band renewals on one initialized connection (bench/renewal.ts). */
  async renewals(args: RenewalArgs & { url: string }): Promise<RenewalResult> {
    const ws = await openWs(args.url, { token: args.token });
    try {
      await initialize(ws);
      return await measureRenewals(ws, args);
    } finally {
      await closeWs(ws);
    }
  },

  /**
   * Sequential connect + token check + first exchange through the raw client (bench/raw-ws.ts),
   * the targets interleaved handshake by handshake (each round starts with the next target), so
   * a slow moment of the machine falls on all of them alike; per target its Sample and its slow handshakes.
   */
  async handshakes(args: HandshakeArgs): Promise<HandshakeTimes[]> {
    const kinds = args.targets.map(handshakeBytes);
    const latencies = kinds.map(() => new Float64Array(args.count));
    const slow = kinds.map((): Span[] => []);
    const slowMs = args.slowMs ?? Number.POSITIVE_INFINITY;
    const started = performance.now();
    let n = 0;
    while (n < args.count && performance.now() - started < args.maxMs) {
      for (let k = 0; k < kinds.length; k++) {
        const at = (n + k) % kinds.length;
        const start = performance.timeOrigin + performance.now();
        const ms = await timeHandshake(kinds[at]!);
        latencies[at]![n] = ms;
        if (ms > slowMs) slow[at]!.push([start, ms]);
      }
      n++;
    }
    const ms = performance.now() - started;
    return latencies.map((l, k) => ({ sample: summarize(l, n, ms, 0), slow: slow[k]! }));
  },
});
