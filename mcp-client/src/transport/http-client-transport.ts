import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { CloseCode, parseBearerChallenge } from 'mcp-ws-common';
import type { TokenSource } from '../auth/token-source.ts';
import { ClientError } from '../errors.ts';
import { errorFromRefusedUpgrade } from './upgrade-refusal.ts';
import type { CloseInfo } from './ws-client-transport.ts';

/** Options of {@link createHttpClientTransport}. */
export interface HttpClientTransportOptions {
  /** `http://` or `https://` URL of the MCP endpoint. */
  readonly url: string | URL;
  /** The token for the first request (already fetched by the caller). */
  readonly token: string;
  /** Where a fresh token comes from after a 401 (refreshed at most once per request). */
  readonly tokenSource: TokenSource;
  /** Longest wait for the session's DELETE when closing, in ms. Default 2000. */
  readonly terminateTimeoutMs?: number | undefined;
}

/**
 * The SDK transport, plus the reason it closed when the server lost the session (what
 * ResilientClient reads as the close code of a WebSocket).
 */
export type HttpClientTransport = StreamableHTTPClientTransport & {
  closeInfo?: CloseInfo | undefined;
  /**
   * Gives the session up as dead (closeInfo 1006 with `reason`) without the DELETE: what a request
   * timeout does, since Streamable HTTP has no ping. Pending fetches are aborted.
   */
  abandon(reason: string): void;
};

/** True for an `http:` or `https:` server URL (Streamable HTTP); `ws:`/`wss:` use the WebSocket. */
export function isHttpUrl(url: string | URL): boolean {
  const p = new URL(url).protocol;
  return p === 'http:' || p === 'https:';
}

/**
 * The SDK's Streamable HTTP client transport with this client's token handling: every request
 * carries `Authorization: Bearer <token>` from the token source; a 401 fetches a fresh token once
 * and repeats the request (the server verifies each request, so a token that expired mid-session
 * is replaced without a new session). A final 401/403 becomes the same ClientError a refused
 * WebSocket upgrade gives (`upgrade_refused` / `insufficient_scope`, with the parsed challenge),
 * so callers handle both transports alike.
 *
 * A POST answered 404 for its `Mcp-Session-Id` means the server no longer knows the session
 * (reaped after SESSION_IDLE_TIMEOUT_MS, or the server restarted): the transport closes with
 * `closeInfo` 1001 and the request fails with `connect_failed`, so ResilientClient does what it
 * does after a dropped WebSocket: opens a new session (initialize) and re-sends the request. A
 * 404 of the standalone GET stream only ends that stream; the next POST finds out. `close()`
 * sends DELETE for the session first (bounded by `terminateTimeoutMs`), so the server frees it
 * at once instead of counting it against MAX_CONNECTIONS_PER_CLIENT until it idles out.
 *
 * In the 2026-07-28 era there is no session (every POST stands alone; the SDK adds the
 * `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers): an unreachable server still
 * closes the transport with 1006, so the reconnect logic is the same for both eras.
 */
export function createHttpClientTransport(options: HttpClientTransportOptions): HttpClientTransport {
  let token = options.token;
  const { tokenSource } = options;
  const url = String(options.url);
  // Assigned below, before the transport makes any request.
  let transport!: HttpClientTransport;
  let closeTransport!: () => Promise<void>;
  /** The session is gone: record why (the first reason wins) and close, as a dropped socket would. */
  const lose = (info: { code: number; reason: string }): void => {
    if (transport.closeInfo !== undefined) return;
    transport.closeInfo = info;
    void closeTransport().catch(() => undefined);
  };
  const authorizedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const sent = new Headers(init?.headers);
    const attempt = (t: string) => {
      const headers = new Headers(sent);
      // No token yet (a sign-in that waits for the server's challenge): ask without one.
      if (t !== '') headers.set('authorization', `Bearer ${t}`);
      return fetch(input, { ...init, headers });
    };
    const isPost = (init?.method ?? 'GET').toUpperCase() === 'POST';
    const isSessionPost = isPost && sent.get('mcp-session-id') !== null;
    // Connected: a 2025-era session, or a 2026-07-28 connection (stateless: no session id, but the
    // SDK set the negotiated revision once connected).
    const isConnectedPost = isSessionPost || (isPost && transport.protocolVersion !== undefined);
    let res: Response;
    try {
      res = await attempt(token);
    } catch (err) {
      // Server down or restarting (refused, reset). Once connected this is a dropped connection
      // (1006), so ResilientClient reconnects with backoff and re-sends; before (server/discover,
      // initialize) it is a failed connect, retried the same way. Aborts and the GET stream keep
      // the SDK's own handling.
      if (!isPost || (err as Error).name === 'AbortError') throw err;
      const cause = networkCause(err);
      if (isConnectedPost) lose({ code: 1006, reason: `the server is unreachable (${cause})` });
      const what =
        cause === 'ECONNREFUSED'
          ? `connection refused at ${url}: is the server running?`
          : `the server at ${url} is unreachable (${cause})`;
      // A refused connection carried nothing: the request certainly did not reach the server.
      throw new ClientError('connect_failed', what, { closeCode: 1006, cause: err, unsent: cause === 'ECONNREFUSED' });
    }
    if (res.status === 401 && tokenSource.refreshable) {
      const challenge = parseBearerChallenge(res.headers.get('www-authenticate') ?? undefined);
      await res.body?.cancel();
      token = await tokenSource.getToken({ forceRefresh: true, challenge });
      res = await attempt(token);
    }
    if (res.status === 403 && tokenSource.stepsUp) {
      // Step-up (MCP authorization, scope challenge): a person may sign in again asking for more.
      const challenge = parseBearerChallenge(res.headers.get('www-authenticate') ?? undefined);
      if (challenge?.error === 'insufficient_scope') {
        await res.body?.cancel();
        token = await tokenSource.getToken({ forceRefresh: true, challenge });
        res = await attempt(token);
      }
    }
    if (res.status === 404 && isSessionPost) {
      await res.body?.cancel();
      lose({
        code: CloseCode.GOING_AWAY,
        reason: 'the server no longer knows the HTTP session (404 Session not found)',
      });
      throw new ClientError(
        'connect_failed',
        `the server at ${url} no longer knows the session (404 Session not found: idle timeout or restart); ` +
          'a new session is needed',
        { status: 404, closeCode: CloseCode.GOING_AWAY, unsent: true },
      );
    }
    if ((res.status === 502 || res.status === 504) && isPost) {
      // A gateway (load balancer, proxy) lost its upstream with this request on it: the request may
      // or may not have run, as with a dropped connection; the session re-sends it only if safe.
      await res.body?.cancel();
      if (isConnectedPost) lose({ code: 1006, reason: `the gateway answered ${res.status}` });
      throw new ClientError('connect_failed', `the gateway in front of ${url} answered ${res.status}`, {
        status: res.status,
        closeCode: 1006,
      });
    }
    if (res.status === 401 || res.status === 403) {
      const body = await res.text().catch(() => '');
      throw errorFromRefusedUpgrade({
        url,
        status: res.status,
        wwwAuthenticate: res.headers.get('www-authenticate') ?? undefined,
        body: body.slice(0, 4096),
        clientId: tokenSource.clientId,
      });
    }
    return res;
  };
  transport = Object.assign(new StreamableHTTPClientTransport(new URL(url), { fetch: authorizedFetch }), {
    abandon: (reason: string) => lose({ code: 1006, reason }),
  });
  closeTransport = transport.close.bind(transport);
  const terminateTimeoutMs = options.terminateTimeoutMs ?? 2000;
  transport.close = async () => {
    if (transport.closeInfo === undefined && transport.sessionId !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        transport.terminateSession().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, terminateTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    await closeTransport();
  };
  return transport;
}

/** The errno of a failed fetch (`ECONNREFUSED`, `ECONNRESET`, ...), else its message. */
function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  return typeof cause?.message === 'string' ? cause.message : String((err as Error).message);
}
