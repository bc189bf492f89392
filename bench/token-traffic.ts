/**
 * The token-traffic row: the real client library (`mcp-client`: client-credentials token source
 * + reconnecting client) calls the server for a fixed time against a token endpoint issuing
 * short-lived tokens; counts token-endpoint requests. Expected about one per token lifetime
 * (the server closes with 4401 at `exp`, the client reconnects with a fresh token).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ClientCredentialsTokenSource, ResilientClient } from '../mcp-client/src/index.ts';
import type { LocalIssuer } from './local-issuer.ts';
import type { ToolCall } from './wire.ts';

/** Options of {@link measureTokenTraffic}. */
export interface TokenTrafficOptions {
  readonly wsUrl: string;
  /** Issuer whose token endpoint issues tokens of `lifetimeSeconds`. */
  readonly issuer: LocalIssuer;
  readonly lifetimeSeconds: number;
  /** Length of the run, in ms. */
  readonly durationMs: number;
  /** Pause between calls, in ms (the run is bounded by time and by `durationMs / pauseMs` calls). */
  readonly pauseMs: number;
  readonly call: ToolCall;
}

/** What the row reports. */
export interface TokenTrafficFigures {
  readonly measured: boolean;
  /** Why not, when `measured` is false. */
  readonly reason?: string;
  readonly seconds: number;
  readonly lifetimeSeconds: number;
  /** Token-endpoint requests seen by the issuer during the run (the first included). */
  readonly tokenRequests: number;
  /** floor(run / lifetime) + 1: one token per lifetime started within the run (an upper bound). */
  readonly expected: number;
  readonly calls: number;
  readonly failedCalls: number;
  readonly reconnects: number;
}

/** Runs the row; never throws (a failure is reported as not measured, with the reason). */
export async function measureTokenTraffic(options: TokenTrafficOptions): Promise<TokenTrafficFigures> {
  const seconds = options.durationMs / 1000;
  const expected = Math.floor(seconds / options.lifetimeSeconds) + 1;
  const base = { seconds, lifetimeSeconds: options.lifetimeSeconds, expected };
  const before = options.issuer.tokenRequests;
  let reconnects = 0;
  let calls = 0;
  let failedCalls = 0;
  let client: ResilientClient | undefined;
  try {
    const tokenSource = new ClientCredentialsTokenSource({
      tokenUrl: options.issuer.tokenUrl,
      clientId: 'bench',
      clientSecret: 'bench-secret',
      scope: 'file.read file.list',
    });
    client = await ResilientClient.connect({
      url: options.wsUrl,
      tokenSource,
      reconnect: { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 1000 },
      onEvent: (e) => {
        if (e.type === 'reconnected') reconnects++;
      },
    });
    const started = performance.now();
    const maxCalls = Math.ceil(options.durationMs / options.pauseMs);
    while (performance.now() - started < options.durationMs && calls + failedCalls < maxCalls) {
      try {
        const result = await client.callTool(options.call.name, options.call.arguments);
        if (result.isError) failedCalls++;
        else calls++;
      } catch {
        failedCalls++;
      }
      await delay(options.pauseMs);
    }
    return {
      measured: true,
      ...base,
      tokenRequests: options.issuer.tokenRequests - before,
      calls,
      failedCalls,
      reconnects,
    };
  } catch (err) {
    return {
      measured: false,
      reason: (err as Error).message,
      ...base,
      tokenRequests: options.issuer.tokenRequests - before,
      calls,
      failedCalls,
      reconnects,
    };
  } finally {
    await client?.close().catch(() => undefined);
  }
}
