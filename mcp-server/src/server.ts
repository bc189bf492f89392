import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { CloseCode } from 'mcp-ws-common';
import type { WebSocket } from 'ws';
import { createAuthorizer } from './auth/authorizer.ts';
import type { ServerConfig } from './config.ts';
import { createHttpServer } from './http/http-server.ts';
import { buildMetadata, metadataUrl, SUPPORTED_SCOPES } from './http/protected-resource-metadata.ts';
import { createLogger, type Logger } from './log.ts';
import { createSession, type InFlight } from './mcp/session.ts';
import { createUpgradeHandler } from './transport/upgrade-handler.ts';
import { WsServerTransport } from './transport/ws-server-transport.ts';

/** Options of {@link startServer}. */
export interface StartOptions {
  /** Logger to use. Default: a JSON logger at config.logLevel on stdout. */
  logger?: Logger;
}

/** A running server. */
export interface ServerHandle {
  /** HTTP base, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** WebSocket endpoint, e.g. `ws://127.0.0.1:3000/mcp`. */
  readonly wsUrl: string;
  /** The bound port (useful with PORT=0). */
  readonly port: number;
  /** Resolves once discovery and the first JWKS load succeeded (what /readyz reports). */
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

/** Closes a socket with `code` and waits up to `ms` for the close handshake, then terminates it. */
async function closeSocket(ws: WebSocket, code: number, reason: string, ms: number): Promise<void> {
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.close(code, reason);
  await Promise.race([closed, delay(ms, undefined, { ref: false })]);
  ws.terminate();
}

/**
 * Starts the MCP server: HTTP endpoints, WebSocket upgrades with bearer authentication, one
 * McpServer per connection. Resolves once listening (authorization may still be booting: see
 * `ready`).
 */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<ServerHandle> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const authorizer = createAuthorizer(config, logger);
  const inFlight = trackInFlight();
  // Filled in once the port is known (PUBLIC_URL unset and PORT=0).
  const challenge = {
    resourceMetadataUrl: '',
    scope: (config.oauthRequiredScopes.length > 0 ? config.oauthRequiredScopes : SUPPORTED_SCOPES).join(' '),
  };

  const upgrades = createUpgradeHandler({
    verify: (token) => authorizer.verify(token),
    requiredScopes: config.oauthRequiredScopes,
    maxMessageBytes: config.maxMessageBytes,
    maxConnections: config.maxConnections,
    challenge,
    logger,
    onConnection(ws, authInfo, req) {
      const connLogger = logger.child({ azp: authInfo.clientId, sub: authInfo.extra?.sub });
      const transport = new WsServerTransport(ws, { authInfo });
      const mcp = createSession({
        authInfo,
        root: config.targetDir,
        maxFileBytes: config.maxFileBytes,
        logger: connLogger,
        inFlight,
      });
      const opened = Date.now();
      ws.once('close', (code, reason) => {
        connLogger.info({
          event: 'connection_closed',
          code,
          reason: reason.toString(),
          remote: req.socket.remoteAddress,
          seconds: (Date.now() - opened) / 1000,
        });
      });
      mcp.connect(transport).catch((err: unknown) => {
        connLogger.error({ event: 'session_failed', error: (err as Error).message });
        transport.closeWith(CloseCode.INTERNAL_ERROR, 'session failed');
      });
    },
  });

  let metadata = buildMetadata(config.publicUrl ?? '', config.oauthIssuer);
  const http = createHttpServer({
    metadata: () => metadata,
    readiness: () => authorizer.readiness,
    onUpgrade: (req, socket, head) => upgrades.handle(req, socket, head),
    logger,
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  const publicUrl = config.publicUrl ?? `http://localhost:${port}/mcp`;
  metadata = buildMetadata(publicUrl, config.oauthIssuer);
  challenge.resourceMetadataUrl = metadataUrl(publicUrl);
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url = `http://${hostPart}:${port}`;
  logger.info({ event: 'listening', url, targetDir: config.targetDir, issuer: config.oauthIssuer });

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    upgrades.stopAccepting();
    authorizer.close();
    const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections();
    await Promise.race([inFlight.idle(), delay(config.shutdownGraceMs, undefined, { ref: false })]);
    await Promise.all(
      [...upgrades.clients].map((ws) => closeSocket(ws, CloseCode.GOING_AWAY, 'server shutting down', 1000)),
    );
    http.closeAllConnections();
    await stopped;
    logger.info({ event: 'stopped' });
  }

  return {
    url,
    wsUrl: `ws://${hostPart}:${port}/mcp`,
    port,
    ready: authorizer.ready,
    close() {
      closing ??= close();
      return closing;
    },
  };
}
