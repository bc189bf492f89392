import type { AuthInfo, jsonSchemaValidator, ServerContext } from '@modelcontextprotocol/server';
import { McpServer } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import type * as z from 'zod';
import type { Logger } from '../log.ts';
import type { ToolCallMetrics } from '../metrics/tool-call-metrics.ts';
import type { ToolSpec } from '../tools/tool-spec.ts';
import { DirectToolCalls, type ToolTable, toolTable } from './direct-tool-calls.ts';
import type { RateLimiter } from './rate-limit.ts';
import { type InFlight, invokeTool } from './tool-invocation.ts';
import { cacheableToolList, TOOLS, visibleTools } from './tool-list.ts';

export type { InFlight } from './tool-invocation.ts';
export { visibleTools } from './tool-list.ts';

/** Name and version announced in `initialize` and `server/discover`. */
export const SERVER_INFO = { name: 'mcp-ws-file-server', version: '0.1.0' } as const;

/** How long a 2026-07-28 client may cache `server/discover`, in ms. */
export const DISCOVER_TTL_MS = 300_000;

/** Options of {@link createSession}. */
export interface SessionOptions {
  /**
   * The verified token of this connection/session, or a function returning the current one (a
   * WebSocket connection's token changes when the client renews it in-band). A request that
   * carries its own `authInfo` (Streamable HTTP verifies every request) is checked against that instead.
   */
  authInfo: AuthInfo | (() => AuthInfo);
  /** Served directory. */
  root: string;
  /** MAX_FILE_BYTES. */
  maxFileBytes: number;
  /**
   * Audit logger (child with the connection's fields), or a function answering the logger of one
   * request (a server shared by requests of many clients logs each under its own client's fields).
   */
  logger: Logger | ((ctx: ServerContext) => Logger);
  /** Shutdown bookkeeping. */
  inFlight?: InFlight;
  /** Per-client tool-call limiter, shared across connections and transports. Default none. */
  rateLimiter?: RateLimiter;
  /** Where tool calls are counted and timed (METRICS_PORT set). Default none. */
  metrics?: { tool(name: string): ToolCallMetrics } | undefined;
  /**
   * Protocol revisions the server answers, passed to the SDK. Default the SDK's 2025-era list; a
   * server that serves 2026-07-28 requests itself (not through an SDK entry) lists that revision too.
   */
  supportedProtocolVersions?: string[];
  /**
   * Serve `tools/call` requests of a shape the SDK already served on this instance directly
   * (mcp/direct-tool-calls.ts). Default true; false sends every call through the SDK.
   */
  directToolCalls?: boolean;
}

/** An McpServer and the direct path for its tool calls (undefined when disabled). */
export interface Session {
  readonly server: McpServer;
  readonly direct: DirectToolCalls | undefined;
}

// The SDK's Server builds an Ajv instance per server unless given a validator; it only validates
// elicitation forms, which this server never sends. One shared, created on first use, keeps idle
// connections (and per-request servers of the 2026-07-28 era) small.
let ajv: AjvJsonSchemaValidator | undefined;
const sharedValidator: jsonSchemaValidator = {
  getValidator: (schema) => {
    ajv ??= new AjvJsonSchemaValidator();
    return ajv.getValidator(schema);
  },
};

// One tool table per metrics registry (per server), shared by all its sessions.
const tables = new WeakMap<object, ToolTable>();
const plainTable = toolTable(TOOLS as readonly ToolSpec[]);
function tableFor(metrics: SessionOptions['metrics']): ToolTable {
  if (metrics === undefined) return plainTable;
  let table = tables.get(metrics);
  if (table === undefined) {
    table = toolTable(TOOLS as readonly ToolSpec[], metrics);
    tables.set(metrics, table);
  }
  return table;
}

/** The token a request is served under: its own (HTTP), else the connection's current one. */
function authOf(ctx: ServerContext, options: SessionOptions): AuthInfo {
  const own = ctx.http?.authInfo;
  if (own !== undefined) return own;
  return typeof options.authInfo === 'function' ? options.authInfo() : options.authInfo;
}

/** The logger a request's audit lines go to. */
function loggerOf(ctx: ServerContext, options: SessionOptions): Logger {
  return typeof options.logger === 'function' ? options.logger(ctx) : options.logger;
}

function register<In extends z.ZodObject, Out extends z.ZodObject>(
  mcp: McpServer,
  spec: ToolSpec<In, Out>,
  options: SessionOptions,
  direct: DirectToolCalls | undefined,
): void {
  const config = {
    title: spec.title,
    description: spec.description,
    inputSchema: spec.inputSchema,
    outputSchema: spec.outputSchema,
    annotations: spec.annotations,
  };
  // Resolved once per tool (its histogram children too): a call makes no label object.
  const calls = options.metrics?.tool(spec.name);
  // The SDK's callback type is generic over the schema; the cast keeps one typed run() per tool.
  const callback = async (args: z.infer<In>, ctx: ServerContext) => {
    direct?.learn(ctx, mcp.server.getNegotiatedProtocolVersion());
    const token = ctx.mcpReq._meta?.progressToken;
    const call = {
      auth: authOf(ctx, options),
      logger: loggerOf(ctx, options),
      signal: ctx.mcpReq.signal,
      progress: async (progress: number, total?: number, message?: string) => {
        if (token === undefined) return;
        await ctx.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken: token, progress, ...(total === undefined ? {} : { total }), message },
        });
      },
    };
    return invokeTool(spec, args, call, options, calls);
  };
  mcp.registerTool(spec.name, config, callback as never);
}

/**
 * Creates one McpServer (never shared: CVE-2026-25536): for a WebSocket connection, a 2025-11-25
 * HTTP session, or one 2026-07-28 HTTP request. The same factory serves both protocol eras.
 *
 * Per-tool scopes: every tool is registered, but tools/list is answered from {@link visibleTools},
 * so a token sees only the tools its scopes allow; calling a hidden tool reaches its callback,
 * which returns an `isError` result naming the missing scope instead of running. (Registering
 * only the allowed tools would make the SDK answer "Tool ... not found", which cannot say which
 * scope is missing; disabling a tool gives "Tool ... disabled".) Input is validated by the SDK
 * before the scope check, so a malformed call to a hidden tool gets the validation error.
 * On a 2026-07-28 request tools/list also carries `ttlMs` and `cacheScope` (see {@link cacheableToolList}).
 */
export function createSession(options: SessionOptions): McpServer {
  return createServedSession(options).server;
}

/**
 * {@link createSession}, with the direct path the transport consults before handing a request
 * to the SDK: the server's tool callbacks teach it which request shapes the SDK accepts.
 */
export function createServedSession(options: SessionOptions): Session {
  const direct =
    options.directToolCalls === false
      ? undefined
      : new DirectToolCalls(tableFor(options.metrics), options, SERVER_INFO);
  const mcp = new McpServer(SERVER_INFO, {
    capabilities: { tools: { listChanged: false } },
    jsonSchemaValidator: sharedValidator,
    ...(options.supportedProtocolVersions === undefined
      ? {}
      : { supportedProtocolVersions: options.supportedProtocolVersions }),
    // server/discover is the same for every caller and changes only with a new release.
    cacheHints: { 'server/discover': { ttlMs: DISCOVER_TTL_MS, cacheScope: 'public' } },
    instructions:
      'Files under one served directory. list-files (scope file.list) lists, read-file (scope file.read) reads; ' +
      "paths are relative and '/'-separated.",
  });
  for (const tool of TOOLS) register(mcp, tool as ToolSpec, options, direct);
  mcp.server.setRequestHandler('tools/list', (_req, ctx) => {
    const auth = authOf(ctx, options);
    // The cache fields exist only in 2026-07-28; a 2025-11-25 answer stays as it was.
    return ctx.mcpReq.envelope === undefined ? visibleTools(auth.scopes) : cacheableToolList(auth);
  });
  return { server: mcp, direct };
}
