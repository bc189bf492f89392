/**
 * The token-traffic row: the real client library (`mcp-client`: client-credentials token source
 * + reconnecting client) calls the server for a fixed time against a token endpoint issuing
 * short-lived tokens; counts token-endpoint requests. The token source asks for a new token
 * `RENEW_SKEW_SECONDS` before `exp`, at most half a lifetime early (its default), and the client
 * hands it to the open connection in-band (`auth/renew`): one request per renewal interval, no
 * reconnect.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ClientCredentialsTokenSource, ResilientClient } from '../mcp-client/src/index.ts';
import type { LocalIssuer } from './local-issuer.ts';
import type { ToolCall } from './wire.ts';

/** The token source's default renewal lead (TOKEN_RENEW_SKEW_SECONDS), set explicitly so the expectation follows it. */
const RENEW_SKEW_SECONDS = 30;

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
  /** Seconds a token is used before the next is asked for; absent in results before 2026-12-02 (read: the lifetime). */
  readonly renewAfterSeconds?: number;
  /** floor(run / renewAfterSeconds) + 1: one token per renewal interval started within the run (an upper bound). */
  readonly expected: number;
  readonly calls: number;
  readonly failedCalls: number;
  readonly reconnects: number;
}

/** Runs the row; never throws (a failure is reported as not measured, with the reason). */
export async function measureTokenTraffic(options: TokenTrafficOptions): Promise<TokenTrafficFigures> {
  const seconds = options.durationMs / 1000;
  const renewAfterSeconds = options.lifetimeSeconds - Math.min(RENEW_SKEW_SECONDS, options.lifetimeSeconds / 2);
  const expected = Math.floor(seconds / renewAfterSeconds) + 1;
  const base = { seconds, lifetimeSeconds: options.lifetimeSeconds, renewAfterSeconds, expected };
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
      renewSkewSeconds: RENEW_SKEW_SECONDS,
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
