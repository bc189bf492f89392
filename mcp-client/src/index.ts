/**
 * mcp-client: an MCP client over WebSocket or Streamable HTTP with Keycloak (OAuth 2.0 client
 * credentials) tokens, MCP 2026-07-28 with fallback to 2025-11-25, in-band token renewal and
 * automatic reconnects. Start with {@link connect}.
 */
import { tokenSourceFromConfig } from './auth/from-config.ts';
import type { TokenSource } from './auth/token-source.ts';
import { type ClientConfig, loadConfig } from './config.ts';
import { ResilientClient, type SessionEvent } from './session.ts';

export { type ClientCredentialsOptions, ClientCredentialsTokenSource } from './auth/client-credentials.ts';
export { tokenSourceFromConfig } from './auth/from-config.ts';
export {
  fetchProtectedResourceMetadata,
  type ProtectedResourceMetadata,
  protectedResourceMetadataUrls,
  type ResourceDiscoveryOptions,
  ResourceDiscoveryTokenSource,
} from './auth/resource-discovery.ts';
export { StaticTokenSource } from './auth/static-token.ts';
export { type CachedToken, TokenCache, type TokenKey } from './auth/token-cache.ts';
export type { GetTokenOptions, TokenSource } from './auth/token-source.ts';
export { canonicalResource, isLoopbackHost } from './auth/trust.ts';
export { type ClientConfig, type ConfigOverrides, loadConfig } from './config.ts';
export { ClientError, type ClientErrorCode, type ClientErrorDetails, isClientError } from './errors.ts';
export { findLoginTarget, type LoginTarget, publicClientConfiguration } from './login/authorization-server.ts';
export {
  type ClientOrigin,
  type LoginClient,
  type RegisteredClient,
  type ResolvedClient,
  resolveLoginClient,
} from './login/client-registration.ts';
export { LoginTokenSource, type LoginTokenSourceOptions, logout } from './login/login-token-source.ts';
export { selectScope, stepUpScope, unionScopes } from './login/scope-selection.ts';
export {
  type BrowserSignInOptions,
  type DeviceSignInOptions,
  type SignInOptions,
  type SignInPrompt,
  signInWithBrowser,
  signInWithDevice,
} from './login/sign-in.ts';
export { SignInTokenSource, type SignInTokenSourceOptions } from './login/sign-in-token-source.ts';
export { configDir, type StoredLogin, TokenStore } from './login/token-store.ts';
export {
  DEFAULT_PROTOCOL,
  isProtocolChoice,
  LEGACY_REVISION,
  MODERN_REVISION,
  PROTOCOL_CHOICES,
  type ProtocolChoice,
} from './protocol-era.ts';
export { backoffDelayMs, type ReconnectOptions, reconnectPolicy } from './reconnect.ts';
export { RENEW_METHOD, RENEW_REFUSED, type RenewalEvent, renewalDelayMs, TokenRenewal } from './renewal.ts';
export { ResilientClient, type ResilientClientOptions, type SessionEvent } from './session.ts';
export { resultText, toolFailure } from './tool-result.ts';
export { errorFromRefusedUpgrade, type RefusedUpgrade } from './transport/upgrade-refusal.ts';
export { type CloseInfo, WsClientTransport, type WsClientTransportOptions } from './transport/ws-client-transport.ts';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Settings; default {@link loadConfig} over `process.env`. */
  readonly config?: ClientConfig | undefined;
  /** Where tokens come from; default chosen from the settings by {@link tokenSourceFromConfig}. */
  readonly tokenSource?: TokenSource | undefined;
  /** Observer of reconnects and drops. */
  readonly onEvent?: ((event: SessionEvent) => void) | undefined;
}

/**
 * Connects to the MCP server named by the settings, authenticating with a bearer token, in the
 * MCP revision the settings ask for (`MCP_PROTOCOL`, default `auto`).
 * @throws ClientError (`config`, token errors, `upgrade_refused`, `insufficient_scope`, `connect_failed`).
 */
export async function connect(options: ConnectOptions = {}): Promise<ResilientClient> {
  const config = options.config ?? loadConfig();
  const tokenSource = options.tokenSource ?? tokenSourceFromConfig(config);
  return ResilientClient.connect({
    url: config.serverUrl,
    protocol: config.mcpProtocol,
    tokenSource,
    reconnect: {
      maxAttempts: config.reconnectMaxAttempts,
      baseDelayMs: config.reconnectBaseDelayMs,
      maxDelayMs: config.reconnectMaxDelayMs,
    },
    callMaxAttempts: config.callMaxAttempts,
    requestTimeoutMs: config.requestTimeoutMs,
    pingIntervalMs: config.pingIntervalMs,
    pingTimeoutMs: config.pingTimeoutMs,
    onEvent: options.onEvent,
  });
}
