/**
 * `tools/call` served without the SDK's per-call machinery, for requests of a shape the SDK has
 * already served on the same server instance.
 *
 * The SDK pays per call for generality this server does not use: the whole request and the whole
 * result (file contents included) parsed by its wire schemas, a context object with request and
 * notification senders, the multi-round-trip seam, and a copy of the result at each encode step.
 * Profiled on `read-file` 1 KiB, that is most of the server's CPU time per call.
 *
 * A request is taken here only when everything the SDK decides from it is already known:
 * - the era: learned from the SDK, when it runs a tool of this instance (`learn`, called from the
 *   tool callback of mcp/session.ts), from the instance's negotiated protocol version;
 * - the envelope (2026-07-28): the request's `_meta` is exactly an envelope that the SDK accepted
 *   on an earlier call of this instance (its check is a pure function of the envelope); in
 *   2025-11-25, `_meta` is absent, as it was on the call the SDK served;
 * - the rest: `jsonrpc` "2.0", a string or integer id, only `params.name`, `params.arguments`
 *   and `params._meta`, a known tool, and arguments the tool's own input schema accepts (the
 *   schema the SDK validates them with). No progress token, `requestState` or `inputResponses`.
 * Anything else, including every first call, goes to the SDK unchanged. The answer is what the
 * SDK would send for the same result (a differential test compares both paths byte for byte):
 * the result as the tool returns it, and in 2026-07-28 with `resultType: "complete"` and the
 * server's info in `_meta`. Scope check, rate limit, audit line and metrics are the same code
 * (mcp/tool-invocation.ts).
 */
import type { AuthInfo, CallToolResult, JSONRPCResultResponse, ServerContext } from '@modelcontextprotocol/server';
import type * as z from 'zod';
import type { Logger } from '../log.ts';
import type { ToolCallMetrics } from '../metrics/tool-call-metrics.ts';
import { type EncodedParts, encodedPartsOf } from '../tools/encoded-result.ts';
import type { ToolSpec } from '../tools/tool-spec.ts';
import { envelopeKey, KeyMemo } from './envelope-key.ts';
import { type IdKey, idKey, isJsonObject as isObject, plainRequest } from './request-id.ts';
import { type InvocationDeps, invokeTool } from './tool-invocation.ts';

/** The one 2026-era revision whose result encoding is reproduced here. */
const MODERN_REVISION = '2026-07-28';
const SERVER_INFO_META_KEY = 'io.modelcontextprotocol/serverInfo';
/** Accepted envelopes remembered (a connection has one; the shared HTTP dispatch one per kind of client). */
const MAX_ENVELOPES = 64;

type Era = 'legacy' | 'modern';
type Json = Record<string, unknown>;

/**
 * Where the answer to a taken request goes: the transport's own send, with the response's text
 * frame when it was made here (exactly `JSON.stringify(response)`).
 */
export type DirectReply = (response: JSONRPCResultResponse, frame?: string) => void;

const noProgress = async (): Promise<void> => {};

/** The tools a direct path serves, by name, with their metrics: one table per server, shared by its sessions. */
export type ToolTable = ReadonlyMap<string, { readonly spec: ToolSpec; readonly calls: ToolCallMetrics | undefined }>;

/** Builds the {@link ToolTable} of `tools`. */
export function toolTable(tools: readonly ToolSpec[], metrics?: { tool(name: string): ToolCallMetrics }): ToolTable {
  return new Map(tools.map((spec) => [spec.name, { spec, calls: metrics?.tool(spec.name) }]));
}

let answered = 0;

/** Calls answered by a direct path in this process (tests: proof that the path was taken). */
export function directCallStats(): { answered: number } {
  return { answered };
}

/** One server instance's direct path (a WebSocket connection's, or the shared 2026-07-28 HTTP dispatch's). */
export class DirectToolCalls {
  readonly #tools: ToolTable;
  readonly #deps: InvocationDeps;
  readonly #serverInfo: Json;
  /** The `_meta` of a 2026-07-28 result that has none of its own: one object, its JSON made once. */
  readonly #infoMeta: KnownJson;
  #era: Era | undefined;
  /** Accepted envelopes (keys); made at the first one (a 2025-11-25 connection has none). */
  #envelopes: KeyMemo<true> | undefined;
  /** Requests taken and not yet answered, by id, to cancel them. */
  readonly #running = new Map<IdKey, AbortController>();
  #closed = false;

  constructor(tools: ToolTable, deps: InvocationDeps, serverInfo: Json) {
    this.#tools = tools;
    this.#deps = deps;
    this.#serverInfo = serverInfo;
    // Frozen: shared by every answer of this instance, so no one may change it under the others.
    const meta = Object.freeze({ [SERVER_INFO_META_KEY]: serverInfo });
    this.#infoMeta = { value: meta, json: JSON.stringify(meta) };
  }

  /**
   * Records what the SDK accepted: called from a tool callback the SDK is running, with the
   * instance's negotiated protocol version. Only a call of the shape this path takes teaches it.
   */
  learn(ctx: ServerContext, negotiatedVersion: string | undefined): void {
    const req = ctx.mcpReq;
    if (req._meta !== undefined || req.inputResponses !== undefined || req.requestState() !== undefined) return;
    const era: Era | undefined =
      negotiatedVersion === MODERN_REVISION
        ? 'modern'
        : negotiatedVersion === undefined || negotiatedVersion < MODERN_REVISION
          ? 'legacy'
          : undefined;
    if (era === undefined || (this.#era !== undefined && era !== this.#era)) return;
    if (era === 'legacy') {
      if (req.envelope === undefined) this.#era = era;
      return;
    }
    const key = req.envelope === undefined ? undefined : envelopeKey(req.envelope as Json);
    if (key === undefined) return;
    this.#era = era;
    this.#envelopes ??= new KeyMemo<true>(MAX_ENVELOPES);
    this.#envelopes.remember(key, true);
  }

  /**
   * Serves `message` here when it qualifies (see the module comment): answers through `reply`
   * (with the request's own id) unless cancelled first. False when the SDK must serve it.
   * `cancelId` is the id {@link cancel} will name it by: the request's own by default, another
   * where requests of many clients share this path (mcp/modern-dispatch.ts gives each its own).
   */
  take(message: unknown, auth: AuthInfo, logger: Logger, reply: DirectReply, cancelId?: string | number): boolean {
    if (this.#era === undefined || this.#closed) return false;
    const request = plainRequest(message);
    if (request?.method !== 'tools/call') return false;
    const params = request.params;
    if (!isObject(params)) return false;
    for (const k in params) if (k !== 'name' && k !== 'arguments' && k !== '_meta') return false;
    const tool = typeof params.name === 'string' ? this.#tools.get(params.name) : undefined;
    if (tool === undefined || !isObject(params.arguments) || !this.#knownShape(params._meta)) return false;
    const args = tool.spec.inputSchema.safeParse(params.arguments);
    if (!args.success) return false;
    this.#run(request.id, idKey(cancelId ?? request.id), tool.spec, args.data, auth, logger, tool.calls, reply);
    return true;
  }

  /** A `notifications/cancelled` for `requestId`: a taken request stops and gets no answer. */
  cancel(requestId: unknown): void {
    const key = idKey(requestId);
    this.#running.get(key)?.abort();
    this.#running.delete(key);
  }

  /** The connection or server closed: every taken request stops, none is answered. */
  close(): void {
    this.#closed = true;
    for (const controller of this.#running.values()) controller.abort();
    this.#running.clear();
  }

  #knownShape(meta: unknown): boolean {
    if (this.#era === 'legacy') return meta === undefined;
    if (!isObject(meta)) return false;
    const key = envelopeKey(meta);
    return key !== undefined && this.#envelopes?.get(key) !== undefined;
  }

  #run(
    id: string | number,
    key: IdKey,
    spec: ToolSpec,
    args: z.infer<z.ZodObject>,
    auth: AuthInfo,
    logger: Logger,
    calls: ToolCallMetrics | undefined,
    reply: DirectReply,
  ): void {
    const controller = new AbortController();
    this.#running.set(key, controller);
    const call = { auth, logger, signal: controller.signal, progress: noProgress };
    invokeTool(spec, args, call, this.#deps, calls)
      // A throw is answered as the SDK's tool handler answers one: an isError result.
      .catch((err: unknown) => toolErrorResult(err))
      .then((result) => {
        if (controller.signal.aborted) return;
        if (this.#running.get(key) === controller) this.#running.delete(key);
        const response = { result: this.#encode(result), jsonrpc: '2.0', id } as JSONRPCResultResponse;
        const parts = encodedPartsOf(result);
        reply(response, parts === undefined ? undefined : frameOf(response, parts, this.#infoMeta));
        answered++;
      })
      .catch((err: unknown) => logger.error({ event: 'direct_reply_failed', error: (err as Error).message }));
  }

  /**
   * The result as the SDK sends it: its members in the order of the SDK's result schema (which
   * rebuilds the object when it validates it), and in 2026-07-28 with `resultType` and the
   * server's info in `_meta` (its encoder's steps). A result of this server's tools has no
   * other members.
   */
  #encode(result: CallToolResult): Json {
    const out: Json = {};
    if (result._meta !== undefined) out._meta = result._meta;
    out.content = result.content;
    if (result.structuredContent !== undefined) out.structuredContent = result.structuredContent;
    if (result.isError !== undefined) out.isError = result.isError;
    if (this.#era !== 'modern') return out;
    out.resultType = 'complete';
    const meta = out._meta;
    if (meta === undefined) out._meta = this.#infoMeta.value as Json;
    else if (isObject(meta) && meta[SERVER_INFO_META_KEY] === undefined) {
      out._meta = { ...meta, [SERVER_INFO_META_KEY]: this.#serverInfo };
    }
    return out;
  }
}

/** `"key":` of the members a tool result has (any other is serialised as met). */
const MEMBER_KEYS: ReadonlyMap<string, string> = new Map(
  ['_meta', 'content', 'structuredContent', 'isError', 'resultType'].map((k) => [k, `${JSON.stringify(k)}:`]),
);

/** A value whose JSON is known: spliced in as is when a member is this very object. */
interface KnownJson {
  readonly value: unknown;
  readonly json: string;
}

/**
 * `JSON.stringify(response)`, with the result's content and structured content spliced in from
 * `parts`, and `known.json` for a member that is `known.value`.
 */
function frameOf(response: JSONRPCResultResponse, parts: EncodedParts, known: KnownJson): string {
  const result = response.result as Record<string, unknown>;
  let body = '';
  for (const key in result) {
    const value = result[key];
    if (value === undefined) continue;
    const json =
      key === 'content'
        ? parts.content()
        : key === 'structuredContent'
          ? parts.structuredContent
          : value === known.value
            ? known.json
            : JSON.stringify(value);
    body += `${body === '' ? '' : ','}${MEMBER_KEYS.get(key) ?? `${JSON.stringify(key)}:`}${json}`;
  }
  return `{"result":{${body}},"jsonrpc":"2.0","id":${JSON.stringify(response.id)}}`;
}

function toolErrorResult(err: unknown): CallToolResult {
  return { content: [{ type: 'text', text: err instanceof Error ? err.message : String(err) }], isError: true };
}
