import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { toJsonSchemaCompat } from '@modelcontextprotocol/sdk/server/zod-json-schema-compat.js';
import { ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type * as z from 'zod';
import type { Logger } from '../log.ts';
import { missingScopeResult, rateLimitedResult } from '../tools/fs-errors.ts';
import { listFilesTool } from '../tools/list-files.ts';
import { readFileTool } from '../tools/read-file.ts';
import type { ToolSpec } from '../tools/tool-spec.ts';
import type { RateLimiter } from './rate-limit.ts';

/** Name and version announced in `initialize`. */
export const SERVER_INFO = { name: 'mcp-ws-file-server', version: '0.1.0' } as const;

/** Counts tool calls in flight across connections, so shutdown can wait for them. */
export interface InFlight {
  begin(): void;
  end(): void;
}

/** Options of {@link createSession}. */
export interface SessionOptions {
  /**
   * The verified token that opened this connection/session. A request that carries its own
   * `extra.authInfo` (Streamable HTTP verifies every request) is checked against that instead.
   */
  authInfo: AuthInfo;
  /** Served directory. */
  root: string;
  /** MAX_FILE_BYTES. */
  maxFileBytes: number;
  /** Audit logger (child with the connection's fields). */
  logger: Logger;
  /** Shutdown bookkeeping. */
  inFlight?: InFlight;
  /** Per-client tool-call limiter, shared across connections and transports. Default none. */
  rateLimiter?: RateLimiter;
}

const TOOLS = [listFilesTool, readFileTool] as const;

// tools/list definitions are computed once per process and shared by every connection: the
// JSON Schemas are the same for all, only the visible subset depends on the token's scopes.
let definitions: readonly (Tool & { scope: string })[] | undefined;
const listsByScopes = new Map<string, { tools: Tool[] }>();

function toolDefinitions(): readonly (Tool & { scope: string })[] {
  definitions ??= TOOLS.map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: toJsonSchemaCompat(t.inputSchema, {
      strictUnions: true,
      pipeStrategy: 'input',
    }) as Tool['inputSchema'],
    outputSchema: toJsonSchemaCompat(t.outputSchema, {
      strictUnions: true,
      pipeStrategy: 'output',
    }) as Tool['outputSchema'],
    annotations: t.annotations,
    scope: t.scope,
  }));
  return definitions;
}

// The SDK's Server builds an Ajv instance (about 20 KiB of heap) per connection unless given a
// validator; it only validates elicitation forms, which this server never sends. One shared,
// created on first use, keeps idle connections small.
let ajv: AjvJsonSchemaValidator | undefined;
const sharedValidator: jsonSchemaValidator = {
  getValidator: (schema) => {
    ajv ??= new AjvJsonSchemaValidator();
    return ajv.getValidator(schema);
  },
};

/** The tools/list result for a token with `scopes`: only the tools it may call. */
export function visibleTools(scopes: readonly string[]): { tools: Tool[] } {
  const granted = new Set(scopes);
  const key = TOOLS.filter((t) => granted.has(t.scope))
    .map((t) => t.name)
    .join(',');
  let list = listsByScopes.get(key);
  if (list === undefined) {
    list = {
      tools: toolDefinitions()
        .filter((d) => granted.has(d.scope))
        .map(({ scope: _s, ...tool }) => tool),
    };
    listsByScopes.set(key, list);
  }
  return list;
}

function register<In extends z.ZodObject, Out extends z.ZodObject>(
  mcp: McpServer,
  spec: ToolSpec<In, Out>,
  options: SessionOptions,
): void {
  const config = {
    title: spec.title,
    description: spec.description,
    inputSchema: spec.inputSchema,
    outputSchema: spec.outputSchema,
    annotations: spec.annotations,
  };
  // The SDK's callback type is generic over the schema; the cast keeps one typed run() per tool.
  const callback = async (args: z.infer<In>, extra: RequestExtra) => {
    const t0 = performance.now();
    // The request's own token (Streamable HTTP verifies each request); a WebSocket passes the connection's.
    const auth = extra.authInfo ?? options.authInfo;
    if (!auth.scopes.includes(spec.scope)) {
      options.logger.warn({
        event: 'access.denied',
        reason: 'insufficient_scope',
        tool: spec.name,
        outcome: 'insufficient_scope',
        scope: spec.scope,
      });
      return missingScopeResult(spec.name, spec.scope);
    }
    const decision = options.rateLimiter?.take(auth.clientId);
    if (decision !== undefined && !decision.allowed) {
      options.logger.warn({
        event: 'access.denied',
        reason: 'rate_limited',
        tool: spec.name,
        outcome: 'rate_limited',
        retryAfterMs: decision.retryAfterMs,
      });
      return rateLimitedResult(spec.name, decision.retryAfterMs);
    }
    options.inFlight?.begin();
    try {
      const token = extra._meta?.progressToken;
      const outcome = await spec.run(args, {
        root: options.root,
        maxFileBytes: options.maxFileBytes,
        signal: extra.signal,
        progress: async (progress, total, message) => {
          if (token === undefined) return;
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress, ...(total === undefined ? {} : { total }), message },
          });
        },
      });
      options.logger.info({
        event: 'tool.call',
        tool: spec.name,
        path: outcome.path,
        outcome: outcome.result.isError ? (outcome.code ?? 'error') : 'ok',
        bytes: outcome.bytes,
        ms: Math.round((performance.now() - t0) * 100) / 100,
      });
      return outcome.result;
    } finally {
      // The SDK sends the result after this callback returns (in microtasks of this turn): count the
      // call as finished only after that, so shutdown never closes a socket under an unsent result.
      setImmediate(() => options.inFlight?.end());
    }
  };
  mcp.registerTool(spec.name, config, callback as never);
}

/** The `extra` the SDK passes to a tool callback, narrowed to what is used here. */
interface RequestExtra {
  signal: AbortSignal;
  authInfo?: AuthInfo | undefined;
  _meta?: { progressToken?: string | number } | undefined;
  sendNotification(n: {
    method: 'notifications/progress';
    params: { progressToken: string | number; progress: number; total?: number; message?: string | undefined };
  }): Promise<void>;
}

/**
 * Creates the McpServer of one connection (never shared: CVE-2026-25536).
 *
 * Per-tool scopes: every tool is registered, but tools/list is answered from {@link visibleTools},
 * so a token sees only the tools its scopes allow; calling a hidden tool reaches its callback,
 * which returns an `isError` result naming the missing scope instead of running. (Registering
 * only the allowed tools would make the SDK answer "Tool ... not found", which cannot say which
 * scope is missing; disabling a tool gives "Tool ... disabled".) Input is validated by the SDK
 * before the scope check, so a malformed call to a hidden tool gets the validation error.
 */
export function createSession(options: SessionOptions): McpServer {
  const mcp = new McpServer(SERVER_INFO, {
    capabilities: { tools: { listChanged: false } },
    jsonSchemaValidator: sharedValidator,
    instructions:
      'Files under one served directory. list-files (scope file.list) lists, read-file (scope file.read) reads; ' +
      "paths are relative and '/'-separated.",
  });
  register(mcp, listFilesTool, options);
  register(mcp, readFileTool, options);
  // registerTool announces listChanged: true; the tool set of a connection never changes.
  mcp.server.registerCapabilities({ tools: { listChanged: false } });
  mcp.server.setRequestHandler(ListToolsRequestSchema, (_req, extra) =>
    visibleTools((extra.authInfo ?? options.authInfo).scopes),
  );
  return mcp;
}
