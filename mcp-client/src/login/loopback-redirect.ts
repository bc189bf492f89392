import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientError } from '../errors.ts';

/** The path of the redirect URI on the loopback listener (registered in Keycloak as `http://127.0.0.1/callback`). */
export const CALLBACK_PATH = '/callback';

const PAGE = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><p>${text}</p>`;

/** A one-shot RFC 8252 loopback redirect receiver. */
export interface LoopbackRedirect {
  /** `http://127.0.0.1:<port>/callback`: the `redirect_uri` to send. */
  readonly redirectUri: string;
  /**
   * Resolves to the full URL the browser was sent back to (code, state, iss or error), once.
   * @throws ClientError `timeout` when nothing arrives within the time given.
   */
  wait(): Promise<URL>;
  /** Stops listening (idempotent). */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 on a port the system picks (RFC 8252 §7.3: loopback IP, any port) for the
 * authorization response. Only `GET /callback` counts and only the first; anything else gets 404,
 * so a page probing local ports cannot end the wait. The listener closes after `timeoutMs`.
 */
export async function listenForRedirect(timeoutMs: number): Promise<LoopbackRedirect> {
  let settle: { resolve(u: URL): void; reject(e: Error): void } | undefined;
  const result = new Promise<URL>((resolve, reject) => {
    settle = { resolve, reject };
  });
  let done = false;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH || done) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    done = true;
    const failed = url.searchParams.has('error');
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      .end(
        failed
          ? PAGE('Sign-in failed', 'The authorization server refused the sign-in; see the terminal.')
          : PAGE('Signed in', 'mcp-client received the sign-in. You can close this window.'),
      );
    settle?.resolve(url);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const timer = setTimeout(() => {
    settle?.reject(
      new ClientError(
        'timeout',
        `no sign-in arrived within ${Math.round(timeoutMs / 1000)} s; run mcp-client login again`,
      ),
    );
  }, timeoutMs);
  const close = async () => {
    clearTimeout(timer);
    if (!server.listening) return;
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  return {
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    wait: () => result.finally(close),
    close,
  };
}
