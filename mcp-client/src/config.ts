import { readFileSync } from 'node:fs';
import { cleanEnv, num, str, url } from 'envalid';
import { parseInsecureHosts } from './auth/trust.ts';
import { ClientError } from './errors.ts';
import { DEFAULT_PROTOCOL, PROTOCOL_CHOICES, type ProtocolChoice } from './protocol-era.ts';

/** Client settings, read from the environment (and overridden by CLI flags). */
export interface ClientConfig {
  /** URL of the MCP server: `ws(s)://` WebSocket or `http(s)://` Streamable HTTP. Default `ws://localhost:3000/mcp`. */
  readonly serverUrl: string;
  /**
   * MCP revision (`MCP_PROTOCOL`): `auto` (default; 2026-07-28 when the server offers it, else
   * 2025-11-25), `2026-07-28` or `2025-11-25` (that revision only).
   */
  readonly mcpProtocol: ProtocolChoice;
  /** OAuth issuer to discover (RFC 8414 / OIDC discovery); the only issuer the secret goes to. */
  readonly issuer: string | undefined;
  /** Token endpoint to use without discovery; the only endpoint the secret goes to. */
  readonly tokenUrl: string | undefined;
  /**
   * The MCP server's canonical URI (RFC 8707 `resource`, the `aud` of its tokens), when it differs
   * from SERVER_URL (a proxy, another host name). Default: SERVER_URL with ws(s) read as http(s).
   */
  readonly resource: string | undefined;
  /** Non-loopback hosts (`host` or `host:port`) allowed over plain http/ws. Default none. */
  readonly insecureHosts: readonly string[];
  readonly clientId: string | undefined;
  /** The client secret itself (from `OAUTH_CLIENT_SECRET`). Never printed. */
  readonly clientSecret: string | undefined;
  /** A file holding the client secret (Docker secrets); re-read when the token endpoint says invalid_client. */
  readonly clientSecretFile: string | undefined;
  /** Space-separated scopes to request. Default `file.read file.list`. */
  readonly scope: string;
  /** A ready-made access token; when set no token endpoint is contacted. Never printed. */
  readonly accessToken: string | undefined;
  /** Renew a cached token this many seconds before it expires. Default 30. */
  readonly tokenRenewSkewSeconds: number;
  /** Reconnect attempts after a dropped connection before giving up. Default 6. */
  readonly reconnectMaxAttempts: number;
  /** First backoff ceiling in ms; doubles per attempt (full jitter). Default 200. */
  readonly reconnectBaseDelayMs: number;
  /** Largest backoff ceiling in ms. Default 5000. */
  readonly reconnectMaxDelayMs: number;
  /** Sends of a read-only/idempotent call whose connection keeps dropping, the first included. Default 3. */
  readonly callMaxAttempts: number;
  /** Timeout of each MCP request in ms; over Streamable HTTP also how a dead server is noticed. Default 60000. */
  readonly requestTimeoutMs: number;
  /** WebSocket ping interval in ms; 0 turns pings off. Default 15000. */
  readonly pingIntervalMs: number;
  /** Time to wait for the pong in ms: a dead server is noticed within interval + this. Default 10000. */
  readonly pingTimeoutMs: number;
}

/** Settings a CLI flag may override; `undefined` leaves the environment's value. */
export type ConfigOverrides = Partial<
  Pick<ClientConfig, 'serverUrl' | 'mcpProtocol' | 'issuer' | 'tokenUrl' | 'clientId' | 'clientSecretFile' | 'scope'>
>;

const SECRET_KEYS = new Set(['OAUTH_CLIENT_SECRET', 'OAUTH_ACCESS_TOKEN']);

/**
 * Reads and validates the client settings.
 * @throws ClientError `config` naming every bad variable (never echoing secret values).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): ClientConfig {
  const merged: Record<string, string | undefined> = { ...env };
  const flagToEnv: Record<keyof ConfigOverrides, string> = {
    serverUrl: 'SERVER_URL',
    mcpProtocol: 'MCP_PROTOCOL',
    issuer: 'OAUTH_ISSUER',
    tokenUrl: 'OAUTH_TOKEN_URL',
    clientId: 'OAUTH_CLIENT_ID',
    clientSecretFile: 'OAUTH_CLIENT_SECRET_FILE',
    scope: 'OAUTH_SCOPE',
  };
  for (const [key, name] of Object.entries(flagToEnv)) {
    const value = overrides[key as keyof ConfigOverrides];
    if (value !== undefined) merged[name] = value;
  }
  // Empty variables (e.g. `OAUTH_ISSUER=` in a compose file) mean "not set".
  for (const [k, v] of Object.entries(merged)) if (v === '') delete merged[k];

  const e = cleanEnv(
    merged,
    {
      SERVER_URL: url({ default: 'ws://localhost:3000/mcp' }),
      MCP_PROTOCOL: str({ choices: PROTOCOL_CHOICES, default: DEFAULT_PROTOCOL }),
      OAUTH_ISSUER: url({ default: undefined }),
      OAUTH_TOKEN_URL: url({ default: undefined }),
      OAUTH_RESOURCE: url({ default: undefined }),
      INSECURE_HTTP_HOSTS: str({ default: '' }),
      OAUTH_CLIENT_ID: str({ default: undefined }),
      OAUTH_CLIENT_SECRET: str({ default: undefined }),
      OAUTH_CLIENT_SECRET_FILE: str({ default: undefined }),
      OAUTH_SCOPE: str({ default: 'file.read file.list' }),
      OAUTH_ACCESS_TOKEN: str({ default: undefined }),
      TOKEN_RENEW_SKEW_SECONDS: num({ default: 30 }),
      RECONNECT_MAX_ATTEMPTS: num({ default: 6 }),
      RECONNECT_BASE_DELAY_MS: num({ default: 200 }),
      RECONNECT_MAX_DELAY_MS: num({ default: 5000 }),
      CALL_MAX_ATTEMPTS: num({ default: 3 }),
      REQUEST_TIMEOUT_MS: num({ default: 60000 }),
      PING_INTERVAL_MS: num({ default: 15000 }),
      PING_TIMEOUT_MS: num({ default: 10000 }),
    },
    {
      reporter: ({ errors }) => {
        const bad = Object.entries(errors);
        if (bad.length === 0) return;
        const lines = bad.map(([k, err]) =>
          SECRET_KEYS.has(k) ? `${k}: invalid value` : `${k}: ${(err as Error).message}`,
        );
        throw new ClientError('config', `invalid configuration: ${lines.join('; ')}`);
      },
    },
  );

  const config: ClientConfig = {
    serverUrl: e.SERVER_URL,
    mcpProtocol: e.MCP_PROTOCOL,
    issuer: e.OAUTH_ISSUER,
    tokenUrl: e.OAUTH_TOKEN_URL,
    resource: e.OAUTH_RESOURCE,
    insecureHosts: parseInsecureHosts(e.INSECURE_HTTP_HOSTS),
    clientId: e.OAUTH_CLIENT_ID,
    clientSecret: e.OAUTH_CLIENT_SECRET,
    clientSecretFile: e.OAUTH_CLIENT_SECRET_FILE,
    scope: e.OAUTH_SCOPE,
    accessToken: e.OAUTH_ACCESS_TOKEN,
    tokenRenewSkewSeconds: e.TOKEN_RENEW_SKEW_SECONDS,
    reconnectMaxAttempts: e.RECONNECT_MAX_ATTEMPTS,
    reconnectBaseDelayMs: e.RECONNECT_BASE_DELAY_MS,
    reconnectMaxDelayMs: e.RECONNECT_MAX_DELAY_MS,
    callMaxAttempts: e.CALL_MAX_ATTEMPTS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    pingIntervalMs: e.PING_INTERVAL_MS,
    pingTimeoutMs: e.PING_TIMEOUT_MS,
  };
  checkConsistency(config);
  return config;
}

function checkConsistency(c: ClientConfig): void {
  const proto = new URL(c.serverUrl).protocol;
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(proto)) {
    throw new ClientError('config', `SERVER_URL must be a ws(s):// or http(s):// URL, got ${proto}//...`);
  }
  if (c.clientSecret !== undefined && c.clientSecretFile !== undefined) {
    throw new ClientError('config', 'set OAUTH_CLIENT_SECRET or OAUTH_CLIENT_SECRET_FILE, not both');
  }
  // Which credentials to use (secret, token, or a stored sign-in) is decided in auth/from-config.ts.
  for (const [name, n, min] of [
    ['TOKEN_RENEW_SKEW_SECONDS', c.tokenRenewSkewSeconds, 0],
    ['RECONNECT_MAX_ATTEMPTS', c.reconnectMaxAttempts, 0],
    ['RECONNECT_BASE_DELAY_MS', c.reconnectBaseDelayMs, 0],
    ['RECONNECT_MAX_DELAY_MS', c.reconnectMaxDelayMs, 0],
    ['CALL_MAX_ATTEMPTS', c.callMaxAttempts, 1],
    ['REQUEST_TIMEOUT_MS', c.requestTimeoutMs, 1],
    ['PING_INTERVAL_MS', c.pingIntervalMs, 0],
    ['PING_TIMEOUT_MS', c.pingTimeoutMs, 1],
  ] as const) {
    if (!Number.isInteger(n) || n < min) throw new ClientError('config', `${name} must be a whole number >= ${min}`);
  }
}

/**
 * Reads a secret file (Docker secrets convention), trimming one trailing newline.
 * @throws ClientError `config` when the file cannot be read (the path is named, the content never).
 */
export function readSecretFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ClientError('config', `cannot read the client secret file ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
