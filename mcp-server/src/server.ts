import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { CloseCode } from 'mcp-ws-common';
import type { WebSocket } from 'ws';
import { createAdmission } from './admission/admission.ts';
import { createRenewer } from './admission/renewal.ts';
import { createAuthorizer } from './auth/authorizer.ts';
import { createRevocationWatch } from './auth/revocation.ts';
import type { WithdrawnReason } from './auth/revocation-watch.ts';
import { LOOPBACK_BINDS, type ServerConfig } from './config.ts';
import { guardHandshakes } from './http/handshake-guard.ts';
import { createHttpServer } from './http/http-server.ts';
import type { SessionRequest } from './http/modern-http.ts';
import { LOOPBACK_HOSTS } from './http/origin-policy.ts';
import { buildMetadata, challengeScope, metadataUrl } from './http/protected-resource-metadata.ts';
import { createStreamableHttpHandler } from './http/streamable-http.ts';
import { createLogger, type Logger } from './log.ts';
import { createLegacyDispatches } from './mcp/legacy-dispatches.ts';
import { createServerDispatch } from './mcp/modern-dispatch.ts';
import { createRateLimiter } from './mcp/rate-limit.ts';
import { createRequestClassifier } from './mcp/request-classifier.ts';
import { createServedSession, type InFlight } from './mcp/session.ts';
import { type MetricsListener, startMetricsListener } from './metrics/metrics-listener.ts';
import { createServerMetrics, eraOf, type ServerMetrics } from './metrics/server-metrics.ts';
import { principalLoggers } from './principal-loggers.ts';
import { startHeartbeat } from './transport/heartbeat.ts';
import { createUpgradeHandler } from './transport/upgrade-handler.ts';
import type { WsServerTransport } from './transport/ws-server-transport.ts';
import { webSocketSessions } from './transport/ws-session.ts';

/** Options of {@link startServer}. */
export interface StartOptions {
  /** Logger to use. Default: a JSON logger at config.logLevel on stdout. */
  logger?: Logger;
  /**
   * Serve tool calls of a shape the SDK already served on a connection without the SDK's
   * per-call machinery (mcp/direct-tool-calls.ts). Default true; false sends every call through
   * the SDK (the reference the differential test compares against).
   */
  directToolCalls?: boolean;
  /**
   * Serve a WebSocket connection (either era) from the shared dispatches until it sends something
   * only a server of its own answers (mcp/connection-entry.ts). Default true; false gives every
   * connection its own server at its first message (the reference the differential test compares against).
   */
  sharedDispatch?: boolean;
}

/** A running server. */
export interface ServerHandle {
  /** HTTP base, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** WebSocket endpoint, e.g. `ws://127.0.0.1:3000/mcp`. */
  readonly wsUrl: string;
  /** Streamable HTTP endpoint (the same path), e.g. `http://127.0.0.1:3000/mcp`. */
  readonly httpUrl: string;
  /** The bound port (useful with PORT=0). */
  readonly port: number;
  /** Where Prometheus scrapes, e.g. `http://127.0.0.1:9464/metrics`; undefined unless METRICS_PORT is set. */
  readonly metricsUrl: string | undefined;
  /**
   * Resolves once signing keys were loaded (discovery first, unless OAUTH_JWKS_URL is set): /readyz
   * answers 200 from then on. Rejects when authorization cannot start (issuer mismatch) or the
   * server is closed first.
   */
  readonly ready: Promise<void>;
  /**
   * Stops accepting, lets in-flight tool calls finish for up to SHUTDOWN_GRACE_MS, then closes
   * every socket with 1001 and the HTTP server.
   */
  close(): Promise<void>;
}

function trackInFlight(): InFlight & { idle(): Promise<void> } {
  let count = 0;
  let waiters: (() => void)[] = [];
  return {
    begin() {
      count++;
    },
    end() {
      count--;
      if (count === 0) {
        for (const w of waiters) w();
        waiters = [];
      }
    },
    idle() {
      return count === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },
  };
}

/** The certificate and key of TLS_CERT_FILE/TLS_KEY_FILE, read once at start; undefined for plain HTTP. */
function readTls(config: ServerConfig): { cert: Buffer; key: Buffer; handshakeTimeout: number } | undefined {
  if (config.tlsCertFile === undefined || config.tlsKeyFile === undefined) return undefined;
  return {
    cert: readFileSync(config.tlsCertFile),
    key: readFileSync(config.tlsKeyFile),
    handshakeTimeout: config.handshakeTimeoutMs,
  };
}

/** Closes a socket with `code` and waits up to `ms` for the close handshake, then terminates it. */
async function closeSocket(ws: WebSocket, code: number, reason: string, ms: number): Promise<void> {
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.close(code, reason);
  await Promise.race([closed, delay(ms, undefined, { ref: false })]);
  ws.terminate();
}

/**
 * Closes a connection whose token was withdrawn: 4403 when the authorization server says it is
 * inactive, 1013 when its status could not be checked for longer than INTROSPECTION_MAX_STALENESS_MS.
 * Calls in flight end with the socket (the client sees them fail, none is answered afterwards).
 */
function withdraw(ws: WebSocket, reason: WithdrawnReason, metrics: ServerMetrics | undefined): void {
  if (ws.readyState !== ws.OPEN) return;
  metrics?.withdrawn(reason);
  if (reason === 'revoked') void closeSocket(ws, CloseCode.TOKEN_REVOKED, 'token revoked', 1000);
  else void closeSocket(ws, CloseCode.TRY_AGAIN_LATER, 'token status cannot be checked', 1000);
}

/**
 * Starts the MCP server: HTTP endpoints, WebSocket upgrades with bearer authentication, one
 * McpServer per connection. Resolves once listening (authorization may still be booting: see
 * `ready`).
 */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<ServerHandle> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  // Collected only when they can be scraped: without METRICS_PORT every hook below is a no-op.
  const metrics = config.metricsPort === undefined ? undefined : createServerMetrics();
  const authorizer = createAuthorizer(config, logger, {
    onJwksFetch: metrics && ((e) => metrics.jwksFetched(e.reason, e.ok)),
  });
  // Revocation (RFC 7662) checked off the request path; verification only reads its verdict.
  const revocation = createRevocationWatch(config, logger, metrics);
  if (revocation !== undefined) metrics?.trackRevocation(() => revocation.size);
  const inFlight = trackInFlight();
  // One bucket per client id across all its connections and both transports.
  const rateLimiter = createRateLimiter({
    ratePerSecond: config.rateLimitCallsPerSecond,
    burst: config.rateLimitBurst,
  });
  // Filled in once the port is known (PUBLIC_URL unset and PORT=0).
  const challenge = {
    resourceMetadataUrl: '',
    scope: challengeScope(config.oauthRequiredScopes),
  };

  // Every verdict, fresh or remembered, passes the revocation screen (throws when revoked).
  const screened = (authInfo: AuthInfo): AuthInfo => {
    revocation?.screen(authInfo);
    return authInfo;
  };
  // One admission for both transports: Host/Origin, tokens, authentication, caps, shutdown.
  const admission = createAdmission({
    verify: async (token) => screened(await authorizer.verify(token)),
    remembered: (token) => {
      const authInfo = authorizer.remembered(token);
      return authInfo === undefined ? undefined : screened(authInfo);
    },
    requiredScopes: config.oauthRequiredScopes,
    maxTokenBytes: config.maxTokenBytes,
    authTimeoutMs: config.handshakeTimeoutMs,
    allowedOrigins: config.allowedOrigins,
    allowedHosts: config.allowedHosts,
    maxConnections: config.maxConnections,
    maxConnectionsPerClient: config.maxConnectionsPerClient,
    clientBudget: { maxInFlight: config.maxInFlightPerClient, maxBytes: config.maxClientBufferedBytes },
    challenge,
    logger,
    onRefusal: metrics && ((event, reason, transport) => metrics.refused(event, reason, transport)),
  });
  const connectionBudget = { maxInFlight: config.maxInFlightPerConnection, maxBytes: config.maxBufferedBytes };
  // The heartbeat asks the transport whether a socket that missed its pong is slow or dead.
  const transports = new WeakMap<WebSocket, WsServerTransport>();

  // What both transports' sessions are made of; each asks for a token, a logger and its options.
  const session = (request: SessionRequest) =>
    createServedSession({
      directToolCalls: options.directToolCalls,
      ...request,
      root: config.targetDir,
      maxFileBytes: config.maxFileBytes,
      inFlight,
      rateLimiter,
      metrics,
    });
  // One McpServer serves the 2026-07-28 requests of every client (its tokens and loggers are per
  // request), on both transports; one classifier remembers the envelopes the SDK accepted.
  const dispatch = createServerDispatch(session, logger);
  // And one per 2025-era version a WebSocket connection negotiates (made at its first use).
  const legacy = options.sharedDispatch === false ? undefined : createLegacyDispatches(session, logger);
  const classify = createRequestClassifier();

  const principalLogger = principalLoggers(logger);
  // In-band renewals of every WebSocket connection, audited under the connection's principal.
  const renewer = createRenewer({
    verifyToken: (token) => admission.verifyToken(token),
    loggerOf: principalLogger,
    rateLimiter,
    onOutcome: metrics && ((result) => metrics.renewal(result)),
  });
  const serveWebSocket = webSocketSessions({
    createSession: (auth, connLogger) => session({ authInfo: auth, logger: connLogger }),
    dispatch: options.sharedDispatch === false ? undefined : dispatch,
    legacy,
    classify,
    renewer,
    maxBufferedBytes: connectionBudget.maxBytes,
    maxInFlight: connectionBudget.maxInFlight,
    principalLogger,
  });
  const upgrades = createUpgradeHandler({
    admission,
    maxMessageBytes: config.maxMessageBytes,
    logger,
    onConnection(ws, authInfo, req, lease) {
      const gauge = metrics?.connectionOpened('websocket');
      if (gauge) ws.once('close', () => gauge.closed());
      const transport = serveWebSocket(ws, authInfo, req, lease, gauge && ((era) => gauge.settle(eraOf(era))));
      transports.set(ws, transport);
      // A closed WebSocket outlives young collections (see WsServerTransport): its entry would keep the transport.
      ws.once('close', () => transports.delete(ws));
      // Judged by its current token at each revocation round (an in-band renewal replaces it).
      const release = revocation?.hold({
        current: () => transport.authInfo,
        withdraw: (reason) => withdraw(ws, reason, metrics),
      });
      if (release) ws.once('close', release);
    },
  });

  // Streamable HTTP on the same endpoint: same admission, same session factory.
  const streamable = createStreamableHttpHandler({
    admission,
    createSession: session,
    dispatch,
    classify,
    maxMessageBytes: config.maxMessageBytes,
    idleTimeoutMs: config.sessionIdleTimeoutMs,
    logger,
    metrics,
  });

  let metadata = buildMetadata(config.publicUrl ?? '', config.oauthIssuer);
  const http = createHttpServer({
    metadata: () => metadata,
    readiness: () => authorizer.readiness,
    onUpgrade: (req, socket, head) => upgrades.handle(req, socket, head),
    onMcpRequest: (req, res) => streamable.handle(req, res),
    logger,
    allowedOrigins: config.allowedOrigins,
    tls: readTls(config),
  });
  guardHandshakes(http, config.handshakeTimeoutMs);
  const stopHeartbeat = startHeartbeat(
    upgrades.clients,
    config.heartbeatIntervalMs,
    () => logger.info({ event: 'connection.closed', transport: 'websocket', reason: 'heartbeat_timeout' }),
    (ws, pingSentAt) => transports.get(ws)?.excusesMissedPong(pingSentAt) ?? false,
  );

  // A listener of its own, never the MCP port: metrics are operational data (SECURITY.md).
  const metricsListener: MetricsListener | undefined =
    metrics === undefined || config.metricsPort === undefined
      ? undefined
      : await startMetricsListener({
          registry: metrics.registry,
          host: config.metricsHost,
          port: config.metricsPort,
          allowedHosts: LOOPBACK_BINDS.includes(config.metricsHost) ? LOOPBACK_HOSTS : [],
          logger,
        });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await metricsListener?.close();
    throw err;
  });
  const bound = http.address() as AddressInfo;
  const { port } = bound;
  const publicUrl =
    config.publicUrl ?? `${config.tlsCertFile !== undefined ? 'https' : 'http'}://localhost:${port}/mcp`;
  metadata = buildMetadata(publicUrl, config.oauthIssuer);
  challenge.resourceMetadataUrl = metadataUrl(publicUrl);
  const secure = config.tlsCertFile !== undefined;
  const allInterfaces = bound.address === '0.0.0.0' || bound.address === '::';
  // The handle's URLs are for connecting: over loopback when bound to every interface.
  const host = allInterfaces ? '127.0.0.1' : bound.address;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url = `${secure ? 'https' : 'http'}://${hostPart}:${port}`;
  // The log says where the server really listens (the bound address), not where to connect.
  logger.info({
    event: 'listening',
    address: `${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${port}`,
    interfaces: allInterfaces ? 'all' : 'this address only',
    tls: secure,
    targetDir: config.targetDir,
    issuer: config.oauthIssuer,
  });

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    admission.stopAccepting();
    stopHeartbeat();
    revocation?.stop();
    authorizer.close();
    const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections();
    await Promise.race([inFlight.idle(), delay(config.shutdownGraceMs, undefined, { ref: false })]);
    await Promise.all([
      ...[...upgrades.clients].map((ws) => closeSocket(ws, CloseCode.GOING_AWAY, 'server shutting down', 1000)),
      streamable.closeAll(),
    ]);
    await dispatch.close();
    await legacy?.close();
    http.closeAllConnections();
    await Promise.all([stopped, metricsListener?.close()]);
    logger.info({ event: 'stopped' });
  }

  return {
    url,
    wsUrl: `${secure ? 'wss' : 'ws'}://${hostPart}:${port}/mcp`,
    httpUrl: `${url}/mcp`,
    port,
    metricsUrl: metricsListener?.url,
    ready: authorizer.ready,
    close() {
      closing ??= close();
      return closing;
    },
  };
}
