import * as oidc from 'openid-client';
import { ClientError } from '../errors.ts';
import { type DiscoveryAlgorithm, discoverIssuer, requestOptions } from './authorization-server.ts';
import type { RegisteredClientStore } from './registered-clients.ts';
import { scopesOf } from './scope-selection.ts';

/**
 * Which OAuth client a person signs in with (MCP authorization, "Client Registration Approaches"):
 * a client registered beforehand (`pre-registered`: this realm's `mcp-cli`, any `--client-id`,
 * including a client ID metadata document URL), or `auto` when there is none: the client ID
 * metadata document at `metadataUrl` if the authorization server advertises
 * `client_id_metadata_document_supported`, else dynamic client registration (RFC 7591) at its
 * `registration_endpoint`.
 */
export type LoginClient =
  | { readonly kind: 'pre-registered'; readonly clientId: string }
  | { readonly kind: 'auto'; readonly metadataUrl?: string | undefined };

/** The client a sign-in used, kept with it: refreshes and revocations authenticate the same way. */
export interface RegisteredClient {
  readonly clientId: string;
  /** A secret dynamic registration gave; absent for a public client. */
  readonly clientSecret?: string | undefined;
  /** RFC 7591 `token_endpoint_auth_method`; absent: `none`. */
  readonly tokenEndpointAuthMethod?: string | undefined;
}

/** What dynamic registration asks for, and where it keeps what it got. */
export interface RegistrationOptions {
  /**
   * The scopes the client will ask for, sent as RFC 7591 `scope` (Keycloak makes them the client's
   * optional scopes, which its "Allowed Client Scopes" policy must allow); undefined: none named.
   */
  readonly scope?: string | undefined;
  /** Clients registered before, per issuer: one whose `scope` covers this one is used again. */
  readonly store?: RegisteredClientStore | undefined;
}

/** How the client of a sign-in came to be. */
export type ClientOrigin = 'pre-registered' | 'client-id-metadata-document' | 'dynamic-registration';

/** A client ready for the authorization code flow at one issuer. */
export interface ResolvedClient {
  readonly config: oidc.Configuration;
  readonly client: RegisteredClient;
  readonly origin: ClientOrigin;
  /** True for a client registered by an earlier command, kept in the registration store. */
  readonly kept?: boolean | undefined;
}

/**
 * How `client` authenticates at the token endpoint: what registration said, else (RFC 7591 §2)
 * `client_secret_basic` when it has a secret and `none` when it has not.
 * @throws ClientError `auth_refused` for a method this client does not implement.
 */
export function clientAuthOf(client: RegisteredClient): oidc.ClientAuth {
  const secret = client.clientSecret;
  const method = client.tokenEndpointAuthMethod ?? (secret ? 'client_secret_basic' : 'none');
  if (method === 'none') return oidc.None();
  if (secret && method === 'client_secret_basic') return oidc.ClientSecretBasic(secret);
  if (secret && method === 'client_secret_post') return oidc.ClientSecretPost(secret);
  throw new ClientError(
    'auth_refused',
    `the client ${client.clientId} is registered for token endpoint authentication "${method}"` +
      `${secret ? '' : ' without a secret'}, which mcp-client does not do: pre-register a public client and pass --client-id`,
  );
}

/**
 * openid-client's configuration for a client a sign-in already used (stored with it), at its issuer.
 * @throws ClientError `issuer_mismatch`, `token_endpoint` or `auth_refused`.
 */
export async function storedClientConfiguration(
  issuer: string,
  client: RegisteredClient,
  insecureHosts: readonly string[],
): Promise<oidc.Configuration> {
  return (await discoverIssuer(issuer, client.clientId, insecureHosts, clientAuthOf(client))).config;
}

/** `redirectUri` without its port. */
function portless(redirectUri: string): string {
  const url = new URL(redirectUri);
  url.port = '';
  return url.href;
}

/** Metadata of a dynamically registered client: a native app with a loopback redirect (RFC 8252). */
function registrationMetadata(redirectUri: string, scope: string | undefined): Partial<oidc.ClientMetadata> {
  return {
    client_name: 'mcp-client',
    ...(scope ? { scope } : {}),
    // The port of this sign-in's listener, and the same URI without a port: RFC 8252 §7.3 has the
    // server accept any port on a loopback redirect, but Keycloak does so only for a registered URI
    // without one ("Invalid parameter: redirect_uri" otherwise), and the kept client's next
    // sign-in listens on another port.
    redirect_uris: [redirectUri, portless(redirectUri)],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    // MCP 2026-07-28 (SEP-837): a registration names its application type; a CLI is native.
    application_type: 'native',
  };
}

/**
 * The client to sign in with at `issuer` (see {@link LoginClient}). Dynamic registration asks for
 * a public native client redirected to `redirectUri`; the authorization server may register it
 * otherwise (a secret, another authentication method), and its answer is what counts.
 * A client registered at `issuer` before (`registration.store`) is used again when it was
 * registered for every scope asked for now; its loopback redirect URI may name another port, which
 * the authorization server must accept (RFC 8252 §7.3; Keycloak does).
 * @throws ClientError `config` when `auto` finds neither CIMD (with a document URL) nor a
 *   registration endpoint; `auth_refused` when registration is refused; discovery errors.
 */
export async function resolveLoginClient(
  issuer: string,
  choice: LoginClient,
  redirectUri: string,
  insecureHosts: readonly string[],
  registration: RegistrationOptions = {},
): Promise<ResolvedClient> {
  if (choice.kind === 'pre-registered') {
    const { config } = await discoverIssuer(issuer, choice.clientId, insecureHosts);
    return { config, client: { clientId: choice.clientId }, origin: 'pre-registered' };
  }
  const found = await discoverIssuer(issuer, choice.metadataUrl ?? 'unregistered', insecureHosts);
  const server = found.config.serverMetadata();
  if (choice.metadataUrl !== undefined && server.client_id_metadata_document_supported === true) {
    return { config: found.config, client: { clientId: choice.metadataUrl }, origin: 'client-id-metadata-document' };
  }
  if (server.registration_endpoint === undefined) {
    const cimd = choice.metadataUrl === undefined ? '' : ' and does not support client ID metadata documents';
    throw new ClientError(
      'config',
      `${issuer} offers no dynamic client registration${cimd}: register a client there and pass --client-id`,
    );
  }
  const kept = registration.store?.find(issuer);
  const wanted = scopesOf(registration.scope);
  const usable = kept !== undefined && (kept.secretExpiresAt === undefined || kept.secretExpiresAt > Date.now());
  if (usable && wanted.every((s) => scopesOf(kept.scope).includes(s))) {
    const client: RegisteredClient = {
      clientId: kept.clientId,
      clientSecret: kept.clientSecret,
      tokenEndpointAuthMethod: kept.tokenEndpointAuthMethod,
    };
    const config = configurationFor(found.config.serverMetadata(), client);
    return { config, client, origin: 'dynamic-registration', kept: true };
  }
  const { resolved, secretExpiresAt } = await register(issuer, redirectUri, registration.scope, found.algorithm);
  registration.store?.save({ issuer, scope: wanted.join(' '), ...resolved.client, secretExpiresAt });
  return resolved;
}

/**
 * What a failed sign-in with `used` should say: when `used` was a kept client, it is forgotten
 * (the authorization server may have deleted it, and the person would otherwise meet the same
 * error page every time) and the message says that the next sign-in registers another.
 */
export function forgetKeptClient(
  used: ResolvedClient | undefined,
  issuer: string,
  store: RegisteredClientStore | undefined,
  err: unknown,
): unknown {
  if (used?.kept !== true || store === undefined || !(err instanceof ClientError)) return err;
  store.forget(issuer);
  return new ClientError(
    err.code,
    `${err.message} (the client ${used.client.clientId} registered at ${issuer} earlier is forgotten: the next sign-in registers a new one)`,
    { cause: err },
  );
}

/** openid-client's configuration for a registered `client`, authenticating as it was registered. */
function configurationFor(server: oidc.ServerMetadata, client: RegisteredClient): oidc.Configuration {
  const meta: Partial<oidc.ClientMetadata> = {
    ...(client.clientSecret === undefined ? {} : { client_secret: client.clientSecret }),
    ...(client.tokenEndpointAuthMethod === undefined
      ? {}
      : { token_endpoint_auth_method: client.tokenEndpointAuthMethod }),
  };
  const config = new oidc.Configuration(server, client.clientId, meta, clientAuthOf(client));
  if (new URL(server.issuer).protocol === 'http:') oidc.allowInsecureRequests(config);
  return config;
}

/**
 * fetch for the registration request that reads a missing `client_secret_expires_at` next to a
 * `client_secret` as 0 ("never expires"): RFC 7591 §3.2.1 requires the field, openid-client
 * enforces it, and some authorization servers (and MCP SDK mock servers) leave it out, which would
 * otherwise make the whole registration unusable over a field this client does not act on.
 */
async function toleratingSecretExpiry(url: string, init: oidc.CustomFetchOptions): Promise<Response> {
  const res = await fetch(url, init as RequestInit);
  if (init.method !== 'POST' || res.status !== 201) return res;
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return new Response(text, { status: res.status, headers: res.headers });
  }
  if (typeof body.client_secret === 'string' && body.client_secret_expires_at === undefined) {
    body.client_secret_expires_at = 0;
  }
  return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
}

async function register(
  issuer: string,
  redirectUri: string,
  scope: string | undefined,
  algorithm: DiscoveryAlgorithm,
): Promise<{ resolved: ResolvedClient; secretExpiresAt: number | undefined }> {
  const url = new URL(issuer);
  let registered: oidc.Configuration;
  try {
    registered = await oidc.dynamicClientRegistration(url, registrationMetadata(redirectUri, scope), undefined, {
      ...requestOptions(url, algorithm),
      [oidc.customFetch]: toleratingSecretExpiry,
    });
  } catch (err) {
    const said =
      err instanceof oidc.ResponseBodyError
        ? ` (${err.error}${err.error_description ? `: ${err.error_description}` : ''})`
        : '';
    throw new ClientError(
      'auth_refused',
      `dynamic client registration at ${issuer} failed${said || `: ${(err as Error).message}`}; ` +
        'pre-register a client and pass --client-id',
      { cause: err },
    );
  }
  const meta = registered.clientMetadata();
  const client: RegisteredClient = {
    clientId: meta.client_id,
    clientSecret: typeof meta.client_secret === 'string' ? meta.client_secret : undefined,
    tokenEndpointAuthMethod:
      typeof meta.token_endpoint_auth_method === 'string' ? meta.token_endpoint_auth_method : undefined,
  };
  // openid-client would authenticate a client with a secret by client_secret_post whatever the
  // registration said: rebuild it with the method the authorization server registered.
  const expires = meta.client_secret_expires_at;
  return {
    resolved: { config: configurationFor(registered.serverMetadata(), client), client, origin: 'dynamic-registration' },
    // RFC 7591 §3.2.1: 0 means the secret never expires.
    secretExpiresAt: typeof expires === 'number' && expires > 0 ? expires * 1000 : undefined,
  };
}
