import type { ServerResponse } from 'node:http';

/** Readiness as seen by /readyz. */
export interface Readiness {
  /** True once discovery succeeded and the JWKS was loaded. */
  readonly ready: boolean;
  /** Why not ready, when not. */
  readonly reason: string | undefined;
}

/** /healthz: the process is alive and serving HTTP. */
export function serveHealth(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end('{"status":"ok"}');
}

/** `Retry-After` of a not-ready /readyz, in seconds (the key loader retries at least this often). */
const NOT_READY_RETRY_AFTER_SECONDS = 5;

/** /readyz: 200 once tokens can be verified, else 503 with the reason and `Retry-After`. */
export function serveReadiness(res: ServerResponse, readiness: Readiness): void {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (!readiness.ready) headers['retry-after'] = String(NOT_READY_RETRY_AFTER_SECONDS);
  res.writeHead(readiness.ready ? 200 : 503, headers);
  res.end(JSON.stringify(readiness.ready ? { status: 'ready' } : { status: 'not_ready', reason: readiness.reason }));
}
