/**
 * Child process: holds many authenticated, initialized WebSocket connections and spreads calls
 * over them. Several of these run side by side for the connection rows.
 * Commands: `open`, `run`, `close`.
 */
import type WebSocket from 'ws';
import { serveCommands } from './child.ts';
import { createLoop, type LoopOptions, type LoopResult } from './closed-loop.ts';
import { closeWs, frameId, initialize, openWs, type ToolCall, toolCallFrames } from './wire.ts';

/** Arguments of `open`. */
export interface OpenManyArgs {
  readonly url: string;
  readonly token: string;
  /** Connections to open and initialize. */
  readonly count: number;
  /** Source address of every connection (e.g. 127.0.1.2), so ephemeral ports last. */
  readonly localAddress: string;
  /** Handshakes in progress at once. */
  readonly concurrency: number;
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

serveCommands(
  {
    async open(args: OpenManyArgs): Promise<OpenManyResult> {
      const started = performance.now();
      let next = 0;
      let failed = 0;
      let error: string | undefined;
      const worker = async () => {
        while (next < args.count) {
          next++;
          try {
            const ws = await openWs(args.url, { token: args.token, localAddress: args.localAddress });
            await initialize(ws);
            sockets.push(ws);
          } catch (err) {
            failed++;
            error ??= (err as Error).message;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(args.concurrency, args.count) }, worker));
      return { opened: sockets.length, failed, ms: performance.now() - started, ...(error ? { error } : {}) };
    },

    async run(args: RunManyArgs): Promise<LoopResult> {
      if (sockets.length === 0) throw new Error('no open connections');
      const frames = toolCallFrames(args.call);
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
