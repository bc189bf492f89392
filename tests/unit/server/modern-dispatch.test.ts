// The long-lived 2026-07-28 dispatch (mcp/modern-dispatch.ts) on its own: one McpServer for every
// request, answers routed by the dispatch's ids (never across requests with the same JSON-RPC id),
// per-request token and logger, refusals flagged as the SDK's per-request transport flags them,
// progress before the result, cancellation and shutdown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AuthInfo,
  type JSONRPCMessage,
  type JSONRPCRequest,
  McpServer,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Logger } from '../../../mcp-server/src/log.ts';
import { createLogger } from '../../../mcp-server/src/log.ts';
import type { ExchangeSink } from '../../../mcp-server/src/mcp/dispatch-channels.ts';
import { createModernDispatch, DISPATCH_REVISION } from '../../../mcp-server/src/mcp/modern-dispatch.ts';

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': DISPATCH_REVISION,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'unit', version: '1' },
};

function request(id: number | string, method: string, params: Record<string, unknown> = {}): JSONRPCRequest {
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...ENVELOPE, ...(params._meta ?? {}) } } };
}

function auth(clientId: string): AuthInfo {
  return { token: `t-${clientId}`, clientId, scopes: [] };
}

/** A sink recording what reached it; `done` resolves with the settled message. */
function recorder() {
  const related: JSONRPCMessage[] = [];
  let abandoned = false;
  let resolve!: (v: { message: JSONRPCMessage; refused: boolean }) => void;
  const done = new Promise<{ message: JSONRPCMessage; refused: boolean }>((r) => {
    resolve = r;
  });
  const sink: ExchangeSink = {
    related: (m) => related.push(m),
    settle: (message, refused) => resolve({ message, refused }),
    abandon: () => {
      abandoned = true;
    },
  };
  return { sink, related, done, isAbandoned: () => abandoned };
}

/** A dispatch over a test server: `whoami` answers the request's client, `wait` runs until aborted, `steps` reports progress. */
function testDispatch() {
  const aborted: string[] = [];
  const logged: { clientId: unknown; requestId: unknown }[] = [];
  let servers = 0;
  const dispatch = createModernDispatch({
    logger: createLogger({ level: 'silent' }),
    createServer(loggerOf) {
      servers++;
      const mcp = new McpServer(
        { name: 'unit', version: '1' },
        { capabilities: { tools: {} }, supportedProtocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS, DISPATCH_REVISION] },
      );
      mcp.registerTool('whoami', { inputSchema: z.object({}) }, async (_args, ctx) => {
        // A turn later, so requests of several clients are in flight together.
        await new Promise((r) => setImmediate(r));
        const logger = loggerOf(ctx) as Logger & { clientId?: string };
        logged.push({ clientId: logger.clientId, requestId: ctx.mcpReq.id });
        return { content: [{ type: 'text', text: ctx.http?.authInfo?.clientId ?? '(none)' }] };
      });
      mcp.registerTool('wait', { inputSchema: z.object({ name: z.string() }) }, async ({ name }, ctx) => {
        await new Promise<void>((r) => ctx.mcpReq.signal.addEventListener('abort', () => r(), { once: true }));
        aborted.push(name);
        return { content: [{ type: 'text', text: 'late' }] };
      });
      mcp.registerTool('steps', { inputSchema: z.object({}) }, async (_args, ctx) => {
        const progressToken = ctx.mcpReq._meta?.progressToken;
        if (progressToken !== undefined) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress: 1, total: 2 },
          });
        }
        return { content: [{ type: 'text', text: 'done' }] };
      });
      return { server: mcp, direct: undefined };
    },
  });
  // A logger standing for "the request's own": the test reads back which client it was made for.
  const loggerFor = (clientId: string) => Object.assign(createLogger({ level: 'silent' }), { clientId });
  return { dispatch, aborted, logged, loggerFor, serverCount: () => servers };
}

describe('modern dispatch', { timeout: 10_000 }, () => {
  it('serves many requests with one server, each answer to its own request (same JSON-RPC id, other clients)', async () => {
    const { dispatch, logged, loggerFor, serverCount } = testDispatch();
    const clients = Array.from({ length: 40 }, (_, i) => `client-${i}`);
    const answers = await Promise.all(
      clients.map((c) => {
        const r = recorder();
        dispatch.dispatch(request(1, 'tools/call', { name: 'whoami', arguments: {} }), auth(c), loggerFor(c), r.sink);
        return r.done;
      }),
    );
    assert.equal(serverCount(), 1);
    answers.forEach(({ message, refused }, i) => {
      assert.equal(refused, false);
      assert.equal((message as { id: unknown }).id, 1, 'the client sees its own id');
      const result = (message as unknown as { result: { content: { text: string }[]; resultType: string } }).result;
      assert.equal(result.content[0]?.text, clients[i], 'answered under its own token');
      assert.equal(result.resultType, 'complete');
    });
    // Each handler ran with its own request's logger, under an id of the dispatch's own.
    assert.deepEqual(logged.map((l) => l.clientId).sort(), [...clients].sort());
    assert.equal(new Set(logged.map((l) => l.requestId)).size, clients.length);
    await dispatch.close();
  });

  it('flags a refusal of the protocol layer (unknown method) as such; an invalid-params answer is not', async () => {
    const { dispatch, loggerFor } = testDispatch();
    const unknown = recorder();
    dispatch.dispatch(request('a', 'prompts/list'), auth('c'), loggerFor('c'), unknown.sink);
    const { message, refused } = await unknown.done;
    assert.equal(refused, true);
    assert.equal((message as { id: unknown }).id, 'a');
    assert.equal((message as { error: { code: number } }).error.code, -32601);

    const invalid = recorder();
    dispatch.dispatch(
      request('b', 'tools/call', { name: 'wait', arguments: { name: 5 } }),
      auth('c'),
      loggerFor('c'),
      invalid.sink,
    );
    const answer = await invalid.done;
    assert.equal(answer.refused, false, 'handler-side errors are answered in band (HTTP 200)');
    await dispatch.close();
  });

  it('delivers progress before the result, to that request only', async () => {
    const { dispatch, loggerFor } = testDispatch();
    const withToken = recorder();
    const without = recorder();
    dispatch.dispatch(
      request(7, 'tools/call', { name: 'steps', arguments: {}, _meta: { progressToken: 'p' } }),
      auth('c'),
      loggerFor('c'),
      withToken.sink,
    );
    dispatch.dispatch(
      request(7, 'tools/call', { name: 'steps', arguments: {} }),
      auth('d'),
      loggerFor('d'),
      without.sink,
    );
    await Promise.all([withToken.done, without.done]);
    assert.equal(withToken.related.length, 1);
    assert.deepEqual((withToken.related[0] as { params: unknown }).params, {
      progressToken: 'p',
      progress: 1,
      total: 2,
    });
    assert.equal(without.related.length, 0);
    await dispatch.close();
  });

  it('a cancelled request aborts its handler and is never answered; close abandons the rest', async () => {
    const { dispatch, aborted, loggerFor } = testDispatch();
    const first = recorder();
    const second = recorder();
    const exchange = dispatch.dispatch(
      request(1, 'tools/call', { name: 'wait', arguments: { name: 'first' } }),
      auth('c'),
      loggerFor('c'),
      first.sink,
    );
    dispatch.dispatch(
      request(1, 'tools/call', { name: 'wait', arguments: { name: 'second' } }),
      auth('d'),
      loggerFor('d'),
      second.sink,
    );
    await new Promise((r) => setImmediate(r));
    exchange.cancel('gone');
    await waitFor(() => aborted.includes('first'));
    assert.deepEqual(aborted, ['first'], 'only the cancelled request stopped');
    await dispatch.close();
    assert.equal(second.isAbandoned(), true);
    assert.equal(first.isAbandoned(), false, 'a cancelled request is no longer tracked');
    const settled = await Promise.race([first.done.then(() => 'answered'), delay(50).then(() => 'silent')]);
    assert.equal(settled, 'silent');
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves once `ok()` holds, polling each turn; fails after 2 s. */
async function waitFor(ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((r) => setImmediate(r));
  }
}
