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

/** /readyz: 200 once tokens can be verified, else 503 with the reason. */
export function serveReadiness(res: ServerResponse, readiness: Readiness): void {
  const status = readiness.ready ? 200 : 503;
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(readiness.ready ? { status: 'ready' } : { status: 'not_ready', reason: readiness.reason }));
}
