/**
 * In-band token renewal (`auth/renew`) on one open WebSocket, measured from the load side:
 * 1. idle: renewals one after the other on a quiet connection; latency = server time + one
 *    loopback round trip (the echo row's p50 at 1 in flight is that round trip);
 * 2. under load: the same calls at a fixed number in flight, without and with a renewal every
 *    `intervalMs`, alternated `pairs` times (one 1-s window's p99 swings by a millisecond on a
 *    shared machine); a renewal that held calls up shows as a higher p99 with renewals.
 * Runs inside a load process (bench/load-ws.ts); tokens are signed by the parent (same client and
 * subject as the connection's token, as the server requires).
 */
import type WebSocket from 'ws';
import { createLoop, type LoopResult } from './closed-loop.ts';
import { type Sample, summarize } from './stats.ts';
import { frameId, requestFrames, type ToolCall, toolCallFrames } from './wire.ts';

/** Arguments of the `renewals` command. */
export interface RenewalArgs {
  /** Fresh tokens for `auth/renew`, used in turn. */
  readonly tokens: readonly string[];
  /** Sequential renewals of the idle phase. */
  readonly idleCount: number;
  readonly call: ToolCall;
  readonly inflight: number;
  readonly durationMs: number;
  /** A renewal every this many ms during the loaded runs. */
  readonly intervalMs: number;
  /** Loaded runs without and with renewals, alternated. */
  readonly pairs: number;
}

/** What the `renewals` command answers. */
export interface RenewalResult {
  /** Sequential renewals on an idle connection (latency includes one loopback round trip). */
  readonly idle: Sample;
  /** Renewals sent while calls ran. */
  readonly loaded: Sample;
  /** The calls without renewals and with them, one run each per pair. */
  readonly without: readonly LoopResult[];
  readonly with: readonly LoopResult[];
  /** Renewals answered with an error (a refused token). */
  readonly refused: number;
}

/** Ids of renewals start here, far above the loop's call ids. */
const RENEW_ID_BASE = 1_000_000_000;

/** Measures renewals on `ws` (open and initialized). */
export async function measureRenewals(ws: WebSocket, args: RenewalArgs): Promise<RenewalResult> {
  const renew = requestFrames('auth/renew', { token: '' });
  const frame = (id: number, token: string) => renew(id).replace('"token":""', `"token":${JSON.stringify(token)}`);
  const pending = new Map<number, number>();
  const done: number[] = [];
  let refused = 0;
  let nextId = RENEW_ID_BASE;
  let turn = 0;
  let onRenewed: (() => void) | undefined;
  const onMessage = (data: Buffer) => {
    const id = frameId(data);
    const t0 = pending.get(id);
    if (t0 === undefined) return;
    pending.delete(id);
    if (data.includes('"error"')) refused++;
    done.push(performance.now() - t0);
    onRenewed?.();
  };
  ws.on('message', onMessage);
  const send = () => {
    const id = nextId++;
    pending.set(id, performance.now());
    ws.send(frame(id, args.tokens[turn++ % args.tokens.length]!));
  };
  try {
    const t0 = performance.now();
    for (let i = 0; i < args.idleCount; i++) {
      const answered = new Promise<void>((resolve) => (onRenewed = resolve));
      send();
      await answered;
    }
    onRenewed = undefined;
    const idle = summarize(Float64Array.from(done), done.length, performance.now() - t0, 0);
    const run = async (withRenewals: boolean): Promise<LoopResult> => {
      const frames = toolCallFrames(args.call);
      const loop = createLoop({
        inflight: args.inflight,
        warmupMs: 200,
        durationMs: args.durationMs,
        maxRequests: 1e6,
      });
      const onCall = (data: Buffer) => loop.complete(frameId(data), data.length);
      ws.on('message', onCall);
      const timer = withRenewals ? setInterval(send, args.intervalMs) : undefined;
      try {
        return await loop.start((id) => ws.send(frames(id)));
      } finally {
        clearInterval(timer);
        ws.off('message', onCall);
      }
    };
    const without: LoopResult[] = [];
    const withRenewals: LoopResult[] = [];
    done.length = 0;
    let loadedMs = 0;
    for (let pair = 0; pair < args.pairs; pair++) {
      without.push(await run(false));
      const from = performance.now();
      withRenewals.push(await run(true));
      loadedMs += performance.now() - from;
    }
    const loaded = summarize(Float64Array.from(done), done.length, loadedMs, 0);
    return { idle, loaded, without, with: withRenewals, refused };
  } finally {
    ws.off('message', onMessage);
  }
}
