/**
 * Child process: holds many authenticated, opened (wire.ts `greet`) WebSocket connections and spreads calls
 * over them. Several of these run side by side for the connection rows.
 * Commands: `open`, `run`, `close`.
 */
import type WebSocket from 'ws';
import { serveCommands } from './child.ts';
import { createLoop, type LoopOptions, type LoopResult } from './closed-loop.ts';
import { closeWs, type Era, frameId, greet, openWs, type ToolCall, toolCallFrames } from './wire.ts';

/** Arguments of `open`. */
export interface OpenManyArgs {
  readonly url: string;
  readonly token: string;
  /** Connections to open and greet. */
  readonly count: number;
  /** Source address of every connection (e.g. 127.0.1.2), so ephemeral ports last. */
  readonly localAddress: string;
  /** Handshakes in progress at once. */
  readonly concurrency: number;
  /** How each connection opens (wire.ts `greet`). */
  readonly era: Era;
}

/** What `open` answers. */
export interface OpenManyResult {
  readonly opened: number;
  readonly failed: number;
  /** First failure, if any. */
  readonly error?: string;
  readonly ms: number;
}

/** Arguments of `run`: a closed loop whose requests go round-robin over the open connections. */
export interface RunManyArgs extends LoopOptions {
  readonly call: ToolCall;
}

let sockets: WebSocket[] = [];
/** The era the open connections were greeted in (their calls carry its envelope). */
let era: Era = 'legacy';

serveCommands(
  {
    async open(args: OpenManyArgs): Promise<OpenManyResult> {
      const started = performance.now();
      // Another call may open more (to another server): the same era, added to those held.
      const held = sockets.length;
      era = args.era;
      let next = 0;
      let failed = 0;
      let error: string | undefined;
      const worker = async () => {
        while (next < args.count) {
          next++;
          try {
            const ws = await openWs(args.url, { token: args.token, localAddress: args.localAddress });
            await greet(ws, args.era);
            sockets.push(ws);
          } catch (err) {
            failed++;
            error ??= (err as Error).message;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(args.concurrency, args.count) }, worker));
      return { opened: sockets.length - held, failed, ms: performance.now() - started, ...(error ? { error } : {}) };
    },

    async run(args: RunManyArgs): Promise<LoopResult> {
      if (sockets.length === 0) throw new Error('no open connections');
      const frames = toolCallFrames(args.call, era === 'modern');
      const loop = createLoop(args);
      const onMessage = (data: Buffer) => loop.complete(frameId(data), data.length);
      const onClose = (code: number) => loop.abort(new Error(`a connection closed (${code}) during the run`));
      for (const ws of sockets) {
        ws.on('message', onMessage);
        ws.on('close', onClose);
      }
      let turn = 0;
      try {
        return await loop.start((id) => {
          sockets[turn]!.send(frames(id));
          turn = (turn + 1) % sockets.length;
        });
      } finally {
        for (const ws of sockets) {
          ws.off('message', onMessage);
          ws.off('close', onClose);
        }
      }
    },

    async close(): Promise<number> {
      const n = sockets.length;
      await Promise.all(sockets.map((ws) => closeWs(ws, 5000)));
      sockets = [];
      return n;
    },
  },
  async () => {
    for (const ws of sockets) ws.terminate();
  },
);
