/**
 * In-band token renewal (`auth/renew`) on one open WebSocket, measured from the load side:
 * 1. idle: renewals one after the other on a quiet connection; latency = server time + one
 *    loopback round trip (the echo row's p50 at 1 in flight is that round trip);
 * 2. under load: the same calls at a fixed number in flight, without and with a renewal every
 *    `intervalMs`, alternated `pairs` times (one 1-s window's p99 swings by a millisecond on a
 *    shared machine); a renewal that held calls up shows as a higher p99 with renewals;
 * 3. around renewals: the calls sent from {@link AROUND_BEFORE_MS} before to {@link AROUND_AFTER_MS}
 *    after a renewal was sent (in flight when it arrived, or queued behind it), against the calls sent
 *    as near a tick of the same timer in the runs without renewals, where the tick sends nothing. The
 *    control matters: a timer fires late when the event loop was busy, so calls near any tick are
 *    slower than calls at large (measured: p99 up to 1.8x with nothing sent). A renewal that delays its
 *    neighbours shows in their p99 directly instead of being diluted by calls far from any renewal;
 * 4. the same-run controls: in the runs with renewals the timer ticks three times per interval: a
 *    renewal with a fresh token, a renewal with the connection's own token (the server answers it
 *    from memory, no signature check: what a renewal costs its neighbours without the check) and a
 *    silent tick, so the calls around each are timed in the same moments (a slow moment of the
 *    machine falls on all three alike, not on one run). When the calls around the remembered
 *    renewals differ from those around the silent ticks as much as the fresh ones do, the difference
 *    is the machine's, not the check's.
 * Runs inside a load process (bench/load-ws.ts); tokens are signed by the parent (same client and
 * subject as the connection's token, as the server requires).
 */
import type WebSocket from 'ws';
import { createLoop, type LoopResult } from './closed-loop.ts';
import { type Sample, summarize } from './stats.ts';
import { frameId, requestFrames, type ToolCall, toolCallFrames } from './wire.ts';

/** Arguments of the `renewals` command. */
export interface RenewalArgs {
  /**
   * Fresh tokens for `auth/renew`, each sent once: the server remembers the verdict of a token it
   * verified (auth/verified-tokens.ts), so a token sent twice would time that memory, not the check.
   * {@link renewalTokensNeeded} says how many a run takes.
   */
  readonly tokens: readonly string[];
  /** The connection's token (it opens the connection; renewing with it is answered from memory). */
  readonly token: string;
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
  /** Latencies of the calls sent around a renewal (all runs with renewals), in ms. */
  readonly around: readonly number[];
  /** The control: latencies of the calls sent around a tick of the same timer in the runs without renewals. */
  readonly aroundTicks: readonly number[];
  /** The same-run control: latencies of the calls sent around the silent ticks between renewals. */
  readonly aroundSilent: readonly number[];
  /** The other same-run control: latencies of the calls sent around a renewal answered from memory. */
  readonly aroundRemembered: readonly number[];
}

/** A call sent this long before a renewal, or up to {@link AROUND_AFTER_MS} after it, is "around" it. */
export const AROUND_BEFORE_MS = 1;
export const AROUND_AFTER_MS = 2;

const WARMUP_MS = 200;

/** Tokens a `renewals` command with these arguments sends at most (a margin for late timers included). */
export function renewalTokensNeeded(
  args: Pick<RenewalArgs, 'idleCount' | 'durationMs' | 'intervalMs' | 'pairs'>,
): number {
  const perRun = Math.ceil((WARMUP_MS + args.durationMs) / args.intervalMs) + 1;
  return args.idleCount + Math.ceil(args.pairs * perRun * 1.25);
}

/** Whether `t` lies around one of `times` (sorted): from AROUND_BEFORE_MS before to AROUND_AFTER_MS after. */
function nearAny(times: readonly number[], t: number): boolean {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < t - AROUND_AFTER_MS) lo = mid + 1;
    else hi = mid;
  }
  return lo < times.length && times[lo]! <= t + AROUND_BEFORE_MS;
}

/** Ids of renewals start here, far above the loop's call ids. */
const RENEW_ID_BASE = 1_000_000_000;

/** Measures renewals on `ws` (open and initialized). */
export async function measureRenewals(ws: WebSocket, args: RenewalArgs): Promise<RenewalResult> {
  const renew = requestFrames('auth/renew', { token: '' });
  const frame = (id: number, token: string) => renew(id).replace('"token":""', `"token":${JSON.stringify(token)}`);
  const pending = new Map<number, number>();
  /** Ids of the renewals sent with the connection's own token: answered, counted if refused, not timed. */
  const remembered = new Set<number>();
  const done: number[] = [];
  let refused = 0;
  let nextId = RENEW_ID_BASE;
  let turn = 0;
  let onRenewed: (() => void) | undefined;
  const onMessage = (data: Buffer) => {
    const id = frameId(data);
    if (remembered.delete(id)) {
      if (data.includes('"error"')) refused++;
      return;
    }
    const t0 = pending.get(id);
    if (t0 === undefined) return;
    pending.delete(id);
    if (data.includes('"error"')) refused++;
    done.push(performance.now() - t0);
    onRenewed?.();
  };
  ws.on('message', onMessage);
  const renewedAt: number[] = [];
  let exhausted = false;
  const send = () => {
    const token = args.tokens[turn++];
    if (token === undefined) {
      exhausted = true;
      return;
    }
    const id = nextId++;
    const now = performance.now();
    pending.set(id, now);
    renewedAt.push(now);
    ws.send(frame(id, token));
  };
  /** Ticks of the same timer in the runs without renewals, where nothing is sent (the control). */
  const tickedAt: number[] = [];
  /** Ticks between renewals in the runs with them, where nothing is sent (the same-run control). */
  const silentAt: number[] = [];
  /** Ticks that renewed with the connection's own token (the other same-run control). */
  const rememberedAt: number[] = [];
  const sendRemembered = () => {
    const id = nextId++;
    remembered.add(id);
    rememberedAt.push(performance.now());
    ws.send(frame(id, args.token));
  };
  let tick = 0;
  const ticks = [send, sendRemembered, () => silentAt.push(performance.now())];
  const onTick = () => ticks[tick++ % ticks.length]!();
  /** Send time and latency of every measured call, per side, classified once the runs are over. */
  const calls = {
    with: { sent: [] as number[], latency: [] as number[] },
    without: { sent: [] as number[], latency: [] as number[] },
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
        warmupMs: WARMUP_MS,
        durationMs: args.durationMs,
        maxRequests: 1e6,
      });
      const sentAt = new Map<number, number>();
      const measuredFrom = performance.now() + WARMUP_MS;
      const onCall = (data: Buffer) => {
        const id = frameId(data);
        const t0 = sentAt.get(id);
        if (t0 !== undefined) {
          sentAt.delete(id);
          if (t0 >= measuredFrom) {
            const side = withRenewals ? calls.with : calls.without;
            side.sent.push(t0);
            side.latency.push(performance.now() - t0);
          }
        }
        loop.complete(id, data.length);
      };
      ws.on('message', onCall);
      const timer = withRenewals
        ? setInterval(onTick, args.intervalMs / ticks.length)
        : setInterval(() => tickedAt.push(performance.now()), args.intervalMs);
      try {
        return await loop.start((id) => {
          sentAt.set(id, performance.now());
          ws.send(frames(id));
        });
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
    if (exhausted) throw new Error(`renewals: more than ${args.tokens.length} tokens needed (each is sent once)`);
    const loaded = summarize(Float64Array.from(done), done.length, loadedMs, 0);
    const near = (side: { sent: number[]; latency: number[] }, times: number[]) =>
      side.latency.filter((_, i) => nearAny(times, side.sent[i]!));
    return {
      idle,
      loaded,
      without,
      with: withRenewals,
      refused,
      around: near(calls.with, renewedAt),
      aroundTicks: near(calls.without, tickedAt),
      aroundSilent: near(calls.with, silentAt),
      aroundRemembered: near(calls.with, rememberedAt),
    };
  } finally {
    ws.off('message', onMessage);
  }
}
