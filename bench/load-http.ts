/**
 * Child process: HTTP load generator for Streamable HTTP peers. One keep-alive connection per
 * request in flight, each sending ready-made request bytes (bench/raw-http.ts: a `node:http`
 * request cost the generator about as much CPU as our server spent answering it, on a 2-core
 * machine where both share the cores); raw pre-serialized JSON-RPC bodies; one MCP session
 * (2025-11-25, opened with `node:http`) or none (2026-07-28: each POST stands alone, with the
 * headers that revision requires).
 * Commands: `capture`, `run`.
 */
import { Agent, request } from 'node:http';
import { serveCommands } from './child.ts';
import { createLoop, type LoopOptions, type LoopResult } from './closed-loop.ts';
import { postWriter, RawHttpConnection } from './raw-http.ts';
import { MODERN_VERSION, PROTOCOL_VERSION, requestFrames, type ToolCall, toolCallFrames } from './wire.ts';

/** Arguments of `capture` and `run`. */
export interface HttpTarget {
  /** Endpoint, e.g. `http://127.0.0.1:1234/mcp`. */
  readonly url: string;
  readonly token: string;
  readonly call: ToolCall;
  /** 2026-07-28: no session, the version in `_meta` and in MCP-Protocol-Version, Mcp-Method, Mcp-Name. */
  readonly modern?: boolean;
}

/** Arguments of `run`. */
export interface HttpRunArgs extends HttpTarget, LoopOptions {}

interface Reply {
  readonly status: number;
  readonly sessionId: string | undefined;
  readonly body: Buffer;
}

const INITIALIZE = requestFrames('initialize', {
  protocolVersion: PROTOCOL_VERSION,
  capabilities: {},
  clientInfo: { name: 'mcp-bench', version: '0.1.0' },
});

/** The headers of every POST, besides the token and the revision's. */
const REQUEST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function post(agent: Agent, url: URL, headers: Record<string, string>, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        agent,
        method: 'POST',
        headers: {
          ...REQUEST_HEADERS,
          'content-length': String(Buffer.byteLength(body)),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const sid = res.headers['mcp-session-id'];
          resolve({
            status: res.statusCode ?? 0,
            sessionId: typeof sid === 'string' ? sid : undefined,
            body: Buffer.concat(chunks),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The JSON-RPC message of a body: as is for JSON, the last `data:` event for an SSE stream. */
function jsonOf(body: string): string {
  if (!/^(event|data|id|retry|:)/.test(body)) return body;
  const events = body.split(/\r?\n\r?\n/).map((e) =>
    e
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n'),
  );
  return events.filter((e) => e !== '').at(-1) ?? '';
}

/**
 * Opens an MCP session: initialize + initialized; answers the headers later requests need. A
 * 2026-07-28 target has no session: its headers are those of every tools/call POST.
 */
async function openSession(agent: Agent, target: HttpTarget): Promise<Record<string, string>> {
  const url = new URL(target.url);
  const auth = { authorization: `Bearer ${target.token}` };
  if (target.modern) {
    return {
      ...auth,
      'mcp-protocol-version': MODERN_VERSION,
      'mcp-method': 'tools/call',
      'mcp-name': target.call.name,
    };
  }
  const init = await post(agent, url, auth, INITIALIZE(0));
  if (init.status !== 200) throw new Error(`initialize: HTTP ${init.status} ${init.body.toString().slice(0, 200)}`);
  const headers: Record<string, string> = { ...auth, 'mcp-protocol-version': PROTOCOL_VERSION };
  if (init.sessionId) headers['mcp-session-id'] = init.sessionId;
  const note = await post(agent, url, headers, '{"jsonrpc":"2.0","method":"notifications/initialized"}');
  if (note.status !== 202) throw new Error(`notifications/initialized: HTTP ${note.status}`);
  return headers;
}

serveCommands({
  async capture(target: HttpTarget): Promise<string> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const headers = await openSession(agent, target);
      const reply = await post(agent, new URL(target.url), headers, toolCallFrames(target.call, target.modern)(1));
      if (reply.status !== 200) throw new Error(`tools/call: HTTP ${reply.status}`);
      return jsonOf(reply.body.toString());
    } finally {
      agent.destroy();
    }
  },

  async run(args: HttpRunArgs): Promise<LoopResult> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(args.url);
    const connections: RawHttpConnection[] = [];
    try {
      const headers = await openSession(agent, args);
      const write = postWriter(url, { ...REQUEST_HEADERS, ...headers });
      for (let i = 0; i < args.inflight; i++) connections.push(await RawHttpConnection.open(url));
      const free = [...connections];
      const frames = toolCallFrames(args.call, args.modern);
      const loop = createLoop(args);
      return await loop.start((id) => {
        const connection = free.pop();
        if (connection === undefined) {
          loop.abort(new Error('more requests in flight than connections'));
          return;
        }
        connection.request(write(frames(id))).then(
          (reply) => {
            free.push(connection);
            loop.complete(id, reply.status === 200 ? reply.bodyBytes : 0);
          },
          (err: Error) => loop.abort(err),
        );
      });
    } finally {
      agent.destroy();
      for (const c of connections) c.close();
    }
  },
});
