import { cleanEnv, EnvMissingError, makeValidator, str, url } from 'envalid';
import { canonicalResource } from 'mcp-ws-common';
import { ServerError } from './errors.ts';
import { LOOPBACK_HOSTS, parseAllowedOrigins } from './http/origin-policy.ts';

/** Validated server configuration; see docs/transport.md and README for each setting. */
export interface ServerConfig {
  /** TCP port; 0 picks a free port. Default 3000. */
  readonly port: number;
  /**
   * Interface to bind. Default 127.0.0.1 (loopback: a bare start is not reachable from the network);
   * containers set 0.0.0.0 explicitly.
   */
  readonly host: string;
  /** Directory the file tools serve. Default /data. */
  readonly targetDir: string;
  /** Exact expected `iss` of tokens (and of the discovery document). Required. */
  readonly oauthIssuer: string;
  /** Base URL used instead of the issuer to fetch metadata and JWKS (container networking). */
  readonly oauthDiscoveryUrl: string | undefined;
  /** JWKS URL override; skips the `jwks_uri` of the discovery document. */
  readonly oauthJwksUrl: string | undefined;
  /**
   * Audiences a token's `aud` must contain one of: the canonical URI ({@link publicUrl}) first, then
   * any named in OAUTH_AUDIENCE (compatibility, e.g. `mcp-server`). Never empty.
   */
  readonly oauthAudience: readonly string[];
  /** Scopes every connection needs. Default none (per-tool scopes still apply). */
  readonly oauthRequiredScopes: readonly string[];
  /**
   * Canonical URI of this resource (RFC 9728 `resource`, RFC 8707 `aud`), normalised as
   * `canonicalResource` does. Default http(s)://localhost:PORT/mcp; undefined only with PORT=0
   * (then the metadata names the port actually bound, and OAUTH_AUDIENCE must say what `aud` is).
   */
  readonly publicUrl: string | undefined;
  /** pino level. Default info. */
  readonly logLevel: string;
  /** Largest file read-file returns whole, in bytes. Default 1 MiB. */
  readonly maxFileBytes: number;
  /** Largest inbound WebSocket message, in bytes (ws `maxPayload`). Default 1 MiB. */
  readonly maxMessageBytes: number;
  /** Concurrent WebSocket connections before refusing with 503. Default 10000. */
  readonly maxConnections: number;
  /** Allowed clock skew for exp/nbf/iat, in seconds. Default 5. */
  readonly clockToleranceSeconds: number;
  /**
   * How long fetched JWKS stay fresh, in ms: older keys are refetched before use, so a key removed
   * in Keycloak stops verifying within this bound. A failed refetch keeps the last good keys
   * (stale-if-error). Default 600000.
   */
  readonly jwksCacheMaxAgeMs: number;
  /** Minimum time between JWKS refetches (unknown kid; retry after a failed fetch), in ms. Default 30000. */
  readonly jwksCooldownMs: number;
  /**
   * How long past {@link jwksCacheMaxAgeMs} keys that cannot be refetched stay in use
   * (stale-if-error), in ms; then tokens get 503 with Retry-After until a refetch succeeds, so a key
   * removed in Keycloak stops verifying within max age + this even while its JWKS is unreachable.
   * Default 300000.
   */
  readonly jwksMaxStalenessMs: number;
  /**
   * The server's own confidential client for RFC 7662 introspection (revocation reaches live
   * connections). Default: the canonical URI ({@link publicUrl}), because Keycloak answers
   * introspection only for a client named in the token's `aud`, and RFC 8707 narrows `aud` to that
   * URI. Undefined when {@link introspectionClientSecretFile} is unset: revocation is not checked
   * and tokens stay valid until `exp` (a warning is logged at start).
   */
  readonly introspectionClientId: string | undefined;
  /** File holding that client's secret (read again when the authorization server answers 401). Default unset. */
  readonly introspectionClientSecretFile: string | undefined;
  /** Every live token is introspected again this often, in ms. Default 5000. */
  readonly revocationCheckIntervalMs: number;
  /**
   * While introspection fails, a token's last good verdict counts this long, in ms; then its
   * connections close (1013) and its requests get 503 with Retry-After (fail closed). Default 120000.
   */
  readonly introspectionMaxStalenessMs: number;
  /** Timeout of one JWKS fetch, in ms. Default 5000. */
  readonly jwksTimeoutMs: number;
  /** How long close() waits for in-flight tool calls, in ms. Default 5000. */
  readonly shutdownGraceMs: number;
  /** A Streamable HTTP session with no request for this long (none in progress) is closed, in ms. Default 600000. */
  readonly sessionIdleTimeoutMs: number;
  /**
   * Browser origins allowed to connect (exact `scheme://host[:port]`, normalised). Default empty:
   * every request carrying an `Origin` header is refused with 403; requests without one (CLI,
   * server-to-server) are allowed. `*` allows any origin (development only).
   */
  readonly allowedOrigins: readonly string[];
  /**
   * Accepted `Host` header values (DNS rebinding defence). Default: localhost, 127.0.0.1 and [::1]
   * when HOST is a loopback address, otherwise empty (check disabled).
   */
  readonly allowedHosts: readonly string[];
  /** Concurrent connections per client (`azp`) before refusing with 429. Default 100. */
  readonly maxConnectionsPerClient: number;
  /** Sustained tool calls per second per client (`azp`), across its connections and both transports. Default 100. */
  readonly rateLimitCallsPerSecond: number;
  /** Tool calls a client may make at once (token-bucket size) before the sustained rate applies. Default 200. */
  readonly rateLimitBurst: number;
  /**
   * Time a TCP connection gets to send complete request headers, and an upgrade to finish
   * authentication, in ms; then it is cut. Default 10000.
   */
  readonly handshakeTimeoutMs: number;
  /** Interval between WebSocket pings, in ms; a peer that missed the previous pong is terminated. 0 disables. Default 30000. */
  readonly heartbeatIntervalMs: number;
  /**
   * Response bytes one WebSocket connection may hold, counted from when a tool produces a response
   * until its socket write completes; above it no further request of that connection starts until
   * writes complete. Default 4 MiB.
   */
  readonly maxBufferedBytes: number;
  /** The same across all connections and sessions of one client (`azp`), both transports. Default 16 MiB. */
  readonly maxClientBufferedBytes: number;
  /** Requests of one WebSocket connection in flight at once; more wait unread. Default 16. */
  readonly maxInFlightPerConnection: number;
  /**
   * Requests of one client (`azp`) in flight at once, across its connections and both transports;
   * more wait (WebSocket) or get 429 (HTTP). Default 64.
   */
  readonly maxInFlightPerClient: number;
  /** Longest bearer token accepted, in bytes; longer ones get 401 before any parsing. Default 8192. */
  readonly maxTokenBytes: number;
  /** PEM certificate chain for native wss:// (with TLS_KEY_FILE). Default unset: plain ws://. */
  readonly tlsCertFile: string | undefined;
  /** PEM private key for native wss:// (with TLS_CERT_FILE). */
  readonly tlsKeyFile: string | undefined;
  /**
   * Port of the separate listener serving Prometheus metrics at `/metrics` (never the MCP port); 0
   * picks a free port. Default unset: no metrics are collected or served.
   */
  readonly metricsPort: number | undefined;
  /**
   * Interface the metrics listener binds. Default 127.0.0.1 (which also turns its `Host` check on);
   * set 0.0.0.0 in a container for a scraper on the container network.
   */
  readonly metricsHost: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const nonNegativeInt = makeValidator<number>((input) => {
  const n = Number(input);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got "${input}"`);
  return n;
});
const positiveInt = makeValidator<number>((input) => {
  const n = Number(input);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got "${input}"`);
  return n;
});
// envalid's `port` refuses 0, which picks a free port (tests rely on it).
const portOrZero = makeValidator<number>((input) => {
  const n = Number(input);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`expected a port 0-65535, got "${input}"`);
  return n;
});

const positiveNumber = makeValidator<number>((input) => {
  const n = Number(input);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`expected a positive number, got "${input}"`);
  return n;
});
const originList = makeValidator<readonly string[]>((input) => parseAllowedOrigins(input));
/** HOST / METRICS_HOST values that bind loopback only (and turn the `Host` check on). */
export const LOOPBACK_BINDS: readonly string[] = ['127.0.0.1', 'localhost', '::1'];

/**
 * Reads and validates the configuration from environment variables.
 * @throws ServerError `config_invalid` listing every problem at once.
 */
export function loadConfig(env: Record<string, string | undefined>): ServerConfig {
  const clean = cleanEnv(
    env,
    {
      PORT: portOrZero({ default: 3000 }),
      HOST: str({ default: '127.0.0.1' }),
      TARGET_DIR: str({ default: '/data' }),
      OAUTH_ISSUER: url(),
      OAUTH_DISCOVERY_URL: url({ default: undefined }),
      OAUTH_JWKS_URL: url({ default: undefined }),
      OAUTH_AUDIENCE: str({ default: '' }),
      OAUTH_REQUIRED_SCOPES: str({ default: '' }),
      PUBLIC_URL: url({ default: undefined }),
      LOG_LEVEL: str({ default: 'info', choices: LOG_LEVELS }),
      MAX_FILE_BYTES: positiveInt({ default: 1024 * 1024 }),
      MAX_MESSAGE_BYTES: positiveInt({ default: 1024 * 1024 }),
      MAX_CONNECTIONS: positiveInt({ default: 10000 }),
      CLOCK_TOLERANCE_SECONDS: nonNegativeInt({ default: 5 }),
      JWKS_CACHE_MAX_AGE_MS: positiveInt({ default: 600000 }),
      JWKS_COOLDOWN_MS: nonNegativeInt({ default: 30000 }),
      JWKS_TIMEOUT_MS: positiveInt({ default: 5000 }),
      JWKS_MAX_STALENESS_MS: nonNegativeInt({ default: 300000 }),
      INTROSPECTION_CLIENT_ID: str({ default: undefined }),
      INTROSPECTION_CLIENT_SECRET_FILE: str({ default: undefined }),
      REVOCATION_CHECK_INTERVAL_MS: positiveInt({ default: 5000 }),
      INTROSPECTION_MAX_STALENESS_MS: positiveInt({ default: 120000 }),
      SHUTDOWN_GRACE_MS: nonNegativeInt({ default: 5000 }),
      SESSION_IDLE_TIMEOUT_MS: positiveInt({ default: 600000 }),
      ALLOWED_ORIGINS: originList({ default: [] }),
      ALLOWED_HOSTS: str({ default: undefined }),
      MAX_CONNECTIONS_PER_CLIENT: positiveInt({ default: 100 }),
      RATE_LIMIT_CALLS_PER_SECOND: positiveNumber({ default: 100 }),
      RATE_LIMIT_BURST: positiveInt({ default: 200 }),
      HANDSHAKE_TIMEOUT_MS: positiveInt({ default: 10000 }),
      HEARTBEAT_INTERVAL_MS: nonNegativeInt({ default: 30000 }),
      MAX_BUFFERED_BYTES: positiveInt({ default: 4 * 1024 * 1024 }),
      MAX_CLIENT_BUFFERED_BYTES: positiveInt({ default: 16 * 1024 * 1024 }),
      MAX_IN_FLIGHT_PER_CONNECTION: positiveInt({ default: 16 }),
      MAX_IN_FLIGHT_PER_CLIENT: positiveInt({ default: 64 }),
      MAX_TOKEN_BYTES: positiveInt({ default: 8192 }),
      TLS_CERT_FILE: str({ default: undefined }),
      TLS_KEY_FILE: str({ default: undefined }),
      METRICS_PORT: portOrZero({ default: undefined }),
      METRICS_HOST: str({ default: '127.0.0.1' }),
    },
    {
      reporter: ({ errors }) => {
        const problems = Object.entries(errors).map(
          ([key, err]) =>
            `${key}: ${err instanceof EnvMissingError ? 'required but not set' : (err as Error | undefined)?.message}`,
        );
        if (problems.length > 0) {
          throw new ServerError('config_invalid', `invalid configuration:\n  ${problems.join('\n  ')}`);
        }
      },
    },
  );
  if ((clean.TLS_CERT_FILE === undefined) !== (clean.TLS_KEY_FILE === undefined)) {
    throw new ServerError(
      'config_invalid',
      'invalid configuration:\n  TLS_CERT_FILE and TLS_KEY_FILE must be set together',
    );
  }
  if (clean.METRICS_PORT !== undefined && clean.METRICS_PORT !== 0 && clean.METRICS_PORT === clean.PORT) {
    throw new ServerError(
      'config_invalid',
      'invalid configuration:\n  METRICS_PORT must differ from PORT: metrics are never served on the MCP listener',
    );
  }
  if (clean.INTROSPECTION_MAX_STALENESS_MS < clean.REVOCATION_CHECK_INTERVAL_MS) {
    throw new ServerError(
      'config_invalid',
      'invalid configuration:\n  INTROSPECTION_MAX_STALENESS_MS must be at least REVOCATION_CHECK_INTERVAL_MS',
    );
  }
  const publicUrl =
    clean.PUBLIC_URL !== undefined
      ? canonicalResource(clean.PUBLIC_URL)
      : clean.PORT === 0
        ? undefined
        : `${clean.TLS_CERT_FILE === undefined ? 'http' : 'https'}://localhost:${clean.PORT}/mcp`;
  const audience = [
    ...(publicUrl === undefined ? [] : [publicUrl]),
    ...clean.OAUTH_AUDIENCE.split(/[\s,]+/).filter((a) => a.length > 0),
  ];
  if (audience.length === 0) {
    throw new ServerError(
      'config_invalid',
      'invalid configuration:\n  PUBLIC_URL: PORT=0 picks the port at start, so the canonical URI tokens must name ' +
        'in aud cannot be derived: set PUBLIC_URL (or OAUTH_AUDIENCE)',
    );
  }
  const introspectionClientId =
    clean.INTROSPECTION_CLIENT_SECRET_FILE === undefined ? undefined : (clean.INTROSPECTION_CLIENT_ID ?? publicUrl);
  if (clean.INTROSPECTION_CLIENT_ID !== undefined && clean.INTROSPECTION_CLIENT_SECRET_FILE === undefined) {
    throw new ServerError(
      'config_invalid',
      'invalid configuration:\n  INTROSPECTION_CLIENT_ID: set INTROSPECTION_CLIENT_SECRET_FILE too (revocation is checked only with both)',
    );
  }
  if (clean.INTROSPECTION_CLIENT_SECRET_FILE !== undefined && introspectionClientId === undefined) {
    throw new ServerError(
      'config_invalid',
      'invalid configuration:\n  INTROSPECTION_CLIENT_ID: PORT=0 without PUBLIC_URL leaves no canonical URI to default to; set it',
    );
  }
  const allowedHosts =
    clean.ALLOWED_HOSTS === undefined
      ? LOOPBACK_BINDS.includes(clean.HOST)
        ? [...LOOPBACK_HOSTS]
        : []
      : clean.ALLOWED_HOSTS.split(',')
          .map((h) => h.trim().toLowerCase())
          .filter((h) => h.length > 0);
  return {
    port: clean.PORT,
    host: clean.HOST,
    targetDir: clean.TARGET_DIR,
    oauthIssuer: clean.OAUTH_ISSUER,
    oauthDiscoveryUrl: clean.OAUTH_DISCOVERY_URL,
    oauthJwksUrl: clean.OAUTH_JWKS_URL,
    oauthAudience: [...new Set(audience)],
    oauthRequiredScopes: clean.OAUTH_REQUIRED_SCOPES.split(/\s+/).filter((s) => s.length > 0),
    publicUrl,
    logLevel: clean.LOG_LEVEL,
    maxFileBytes: clean.MAX_FILE_BYTES,
    maxMessageBytes: clean.MAX_MESSAGE_BYTES,
    maxConnections: clean.MAX_CONNECTIONS,
    clockToleranceSeconds: clean.CLOCK_TOLERANCE_SECONDS,
    jwksCacheMaxAgeMs: clean.JWKS_CACHE_MAX_AGE_MS,
    jwksCooldownMs: clean.JWKS_COOLDOWN_MS,
    jwksTimeoutMs: clean.JWKS_TIMEOUT_MS,
    jwksMaxStalenessMs: clean.JWKS_MAX_STALENESS_MS,
    introspectionClientId,
    introspectionClientSecretFile: clean.INTROSPECTION_CLIENT_SECRET_FILE,
    revocationCheckIntervalMs: clean.REVOCATION_CHECK_INTERVAL_MS,
    introspectionMaxStalenessMs: clean.INTROSPECTION_MAX_STALENESS_MS,
    shutdownGraceMs: clean.SHUTDOWN_GRACE_MS,
    sessionIdleTimeoutMs: clean.SESSION_IDLE_TIMEOUT_MS,
    allowedOrigins: clean.ALLOWED_ORIGINS,
    allowedHosts,
    maxConnectionsPerClient: clean.MAX_CONNECTIONS_PER_CLIENT,
    rateLimitCallsPerSecond: clean.RATE_LIMIT_CALLS_PER_SECOND,
    rateLimitBurst: clean.RATE_LIMIT_BURST,
    handshakeTimeoutMs: clean.HANDSHAKE_TIMEOUT_MS,
    heartbeatIntervalMs: clean.HEARTBEAT_INTERVAL_MS,
    maxBufferedBytes: clean.MAX_BUFFERED_BYTES,
    maxClientBufferedBytes: clean.MAX_CLIENT_BUFFERED_BYTES,
    maxInFlightPerConnection: clean.MAX_IN_FLIGHT_PER_CONNECTION,
    maxInFlightPerClient: clean.MAX_IN_FLIGHT_PER_CLIENT,
    maxTokenBytes: clean.MAX_TOKEN_BYTES,
    tlsCertFile: clean.TLS_CERT_FILE,
    tlsKeyFile: clean.TLS_KEY_FILE,
    metricsPort: clean.METRICS_PORT,
    metricsHost: clean.METRICS_HOST,
  };
}
