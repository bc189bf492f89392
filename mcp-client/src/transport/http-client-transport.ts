import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { TokenSource } from '../auth/token-source.ts';
import { errorFromRefusedUpgrade } from './upgrade-refusal.ts';

/** Options of {@link createHttpClientTransport}. */
export interface HttpClientTransportOptions {
  /** `http://` or `https://` URL of the MCP endpoint. */
  readonly url: string | URL;
  /** The token for the first request (already fetched by the caller). */
  readonly token: string;
  /** Where a fresh token comes from after a 401 (refreshed at most once per request). */
  readonly tokenSource: TokenSource;
}

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
 */
export function createHttpClientTransport(options: HttpClientTransportOptions): StreamableHTTPClientTransport {
  let token = options.token;
  const { tokenSource } = options;
  const url = String(options.url);
  const authorizedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const attempt = (t: string) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${t}`);
      return fetch(input, { ...init, headers });
    };
    let res = await attempt(token);
    if (res.status === 401 && tokenSource.refreshable) {
      await res.body?.cancel();
      token = await tokenSource.getToken({ forceRefresh: true });
      res = await attempt(token);
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
  return new StreamableHTTPClientTransport(new URL(url), { fetch: authorizedFetch });
}
