/**
 * Child process: the ceiling. A bare `ws` server on 127.0.0.1 that answers each request frame
 * with a response frame copied from the real server's response for the same row (so sizes
 * match), with the request's id spliced in. No auth, no MCP, no file I/O.
 * Commands: `start()` -> ws URL, `setReply(template)`.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { serveCommands } from './child.ts';

const ID_KEY = Buffer.from('"id":');
const PLACEHOLDER = '"__bench_id__"';

let head = '{"jsonrpc":"2.0","result":{},"id":';
let tail = '}';
let wss: WebSocketServer | undefined;

/** The id digits of a request frame (the load generator writes the id in the first bytes). */
function requestId(data: Buffer): string {
  const at = data.subarray(0, 64).indexOf(ID_KEY);
  if (at < 0) return 'null';
  let end = at + ID_KEY.length;
  while (end < data.length && data[end]! >= 48 && data[end]! <= 57) end++;
  return data.toString('latin1', at + ID_KEY.length, end);
}

serveCommands(
  {
    async start(): Promise<string> {
      wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1 << 20 });
      await new Promise<void>((resolve) => wss!.once('listening', resolve));
      wss.on('connection', (ws) => {
        ws.on('message', (data: Buffer) => ws.send(head + requestId(data) + tail));
      });
      return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
    },
    /** Uses `template` (a JSON-RPC response text) as the reply, id replaced per request. */
    setReply(template: string): number {
      const message = JSON.parse(template) as { id?: unknown };
      message.id = '__bench_id__';
      const text = JSON.stringify(message);
      const at = text.indexOf(PLACEHOLDER);
      head = text.slice(0, at);
      tail = text.slice(at + PLACEHOLDER.length);
      return Buffer.byteLength(head) + Buffer.byteLength(tail);
    },
  },
  async () => {
    for (const c of wss?.clients ?? []) c.terminate();
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
  },
);
