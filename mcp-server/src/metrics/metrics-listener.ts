import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { isHostAllowed } from '../http/origin-policy.ts';
import type { Logger } from '../log.ts';

/** The path metrics are served at. */
export const METRICS_PATH = '/metrics';

/** Connections the metrics listener holds at once: a scraper needs one or two. */
export const METRICS_MAX_CONNECTIONS = 16;

/** Time a scrape request gets to arrive complete, in ms. */
export const METRICS_REQUEST_TIMEOUT_MS = 5000;

/** Options of {@link startMetricsListener}. */
export interface MetricsListenerOptions {
  readonly registry: Registry;
  /** Interface to bind (METRICS_HOST). */
  readonly host: string;
  /** Port (METRICS_PORT; 0 picks a free one). */
  readonly port: number;
  /** Accepted `Host` values; empty: not checked (DNS rebinding defence on loopback binds). */
  readonly allowedHosts: readonly string[];
  readonly logger: Logger;
  /** Time a request gets to arrive complete, in ms (tests). Default {@link METRICS_REQUEST_TIMEOUT_MS}. */
  readonly requestTimeoutMs?: number;
}

/** The running metrics listener. */
export interface MetricsListener {
  /** Where to scrape, e.g. `http://127.0.0.1:9464/metrics` (loopback when bound to every interface). */
  readonly url: string;
  close(): Promise<void>;
}

function answer(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

/**
 * Serves the registry in the Prometheus text format at `GET /metrics` on a listener of its own,
 * never on the MCP port: metrics say who is busy and how (operational data), so they stay off the
 * public listener and are bound to loopback unless METRICS_HOST says otherwise. No browser needs
 * them: a request carrying `Origin` is refused (403), and on loopback binds `Host` must be a
 * loopback name (403), so a page using DNS rebinding cannot read them. Other paths get 404, other
 * methods 405.
 */
export async function startMetricsListener(options: MetricsListenerOptions): Promise<MetricsListener> {
  const { registry, logger } = options;
  const timeoutMs = options.requestTimeoutMs ?? METRICS_REQUEST_TIMEOUT_MS;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.origin !== undefined || !isHostAllowed(req.headers.host, options.allowedHosts)) {
      return answer(res, 403, 'forbidden\n');
    }
    // A plain split, not URL parsing: a malformed request target must not throw in the handler.
    const pathname = (req.url ?? '').split('?', 1)[0];
    if (pathname !== METRICS_PATH) return answer(res, 404, `not found; metrics are at ${METRICS_PATH}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'use GET\n', { allow: 'GET, HEAD' });
    registry.metrics().then(
      (text) => answer(res, 200, req.method === 'HEAD' ? '' : text, { 'content-type': registry.contentType }),
      (err: unknown) => {
        logger.error({ event: 'metrics_failed', error: (err as Error).message });
        answer(res, 500, 'metrics could not be collected\n');
      },
    );
  };
  const server: Server = createServer(
    {
      requestTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      // Node enforces both timeouts only at this interval (default 30 s).
      connectionsCheckingInterval: Math.min(1000, timeoutMs),
    },
    handler,
  );
  server.maxConnections = METRICS_MAX_CONNECTIONS;
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const all = bound.address === '0.0.0.0' || bound.address === '::';
  const host = all ? '127.0.0.1' : bound.address.includes(':') ? `[${bound.address}]` : bound.address;
  logger.info({
    event: 'metrics_listening',
    address: `${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${bound.port}`,
    interfaces: all ? 'all' : 'this address only',
    path: METRICS_PATH,
  });
  return {
    url: `http://${host}:${bound.port}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
