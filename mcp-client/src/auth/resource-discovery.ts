import type { BearerChallenge } from 'mcp-ws-common';
import { ClientError } from '../errors.ts';
import { type ClientCredentialsOptions, ClientCredentialsTokenSource, describeFailure } from './client-credentials.ts';
import type { GetTokenOptions, TokenSource } from './token-source.ts';

/** OAuth 2.0 Protected Resource Metadata (RFC 9728), the fields this client reads. */
export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers?: readonly string[];
  readonly scopes_supported?: readonly string[];
  readonly bearer_methods_supported?: readonly string[];
  readonly resource_name?: string;
}

/**
 * The well-known metadata URLs of a server, best first: the path-inserted form
 * (`/.well-known/oauth-protected-resource/mcp`) then the root form. `ws:` maps to `http:`, `wss:` to `https:`.
 */
export function protectedResourceMetadataUrls(serverUrl: string | URL): URL[] {
  const u = new URL(serverUrl);
  const origin = `${u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol}//${u.host}`;
  const root = new URL('/.well-known/oauth-protected-resource', origin);
  const path = u.pathname.replace(/\/+$/, '');
  return path === '' ? [root] : [new URL(`/.well-known/oauth-protected-resource${path}`, origin), root];
}

/**
 * Fetches and checks one protected resource metadata document.
 * @throws ClientError `token_endpoint` when it cannot be fetched or names no authorization server.
 */
export async function fetchProtectedResourceMetadata(
  url: string | URL,
  timeoutMs = 10_000,
): Promise<ProtectedResourceMetadata> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new ClientError('token_endpoint', `cannot fetch resource metadata at ${url}: ${describeFailure(err)}`, {
      cause: err,
    });
  }
  if (!res.ok) {
    throw new ClientError('token_endpoint', `resource metadata at ${url} answered HTTP ${res.status}`, {
      status: res.status,
    });
  }
  let doc: unknown;
  try {
    doc = await res.json();
  } catch (err) {
    throw new ClientError('token_endpoint', `resource metadata at ${url} is not JSON`, { cause: err });
  }
  const meta = doc as Partial<ProtectedResourceMetadata>;
  if (typeof meta !== 'object' || meta === null || typeof meta.resource !== 'string') {
    throw new ClientError('token_endpoint', `resource metadata at ${url} has no "resource" (RFC 9728)`);
  }
  const servers = meta.authorization_servers;
  if (!Array.isArray(servers) || typeof servers[0] !== 'string') {
    throw new ClientError('token_endpoint', `resource metadata at ${url} names no authorization_servers`);
  }
  return meta as ProtectedResourceMetadata;
}

/** Options of {@link ResourceDiscoveryTokenSource}: client credentials without an issuer. */
export interface ResourceDiscoveryOptions extends Omit<ClientCredentialsOptions, 'issuer' | 'tokenUrl'> {
  /** The MCP server's WebSocket URL; its well-known metadata URLs are derived from it. */
  readonly serverUrl: string | URL;
  /** A metadata URL already known (e.g. from a 401's `resource_metadata`); tried first. */
  readonly resourceMetadataUrl?: string | URL | undefined;
}

/**
 * MCP-style discovery: read the server's protected resource metadata, take its first
 * authorization server as the issuer, discover that, then use client credentials.
 */
export class ResourceDiscoveryTokenSource implements TokenSource {
  readonly refreshable = true;
  readonly clientId: string;
  readonly #opts: ResourceDiscoveryOptions;
  #challengeUrl: string | undefined;
  #inner: Promise<ClientCredentialsTokenSource> | undefined;
  #metadata: ProtectedResourceMetadata | undefined;

  constructor(options: ResourceDiscoveryOptions) {
    this.#opts = options;
    this.clientId = options.clientId;
    this.#challengeUrl = options.resourceMetadataUrl === undefined ? undefined : String(options.resourceMetadataUrl);
  }

  /** The metadata document found, once a token was asked for. */
  get metadata(): ProtectedResourceMetadata | undefined {
    return this.#metadata;
  }

  /** Learns the metadata URL from a server challenge, used if discovery has not succeeded yet. */
  onChallenge(challenge: BearerChallenge): void {
    if (challenge.resource_metadata && !this.#metadata) this.#challengeUrl = challenge.resource_metadata;
  }

  async getToken(options: GetTokenOptions = {}): Promise<string> {
    this.#inner ??= this.#discover().catch((err: unknown) => {
      this.#inner = undefined;
      throw err;
    });
    return (await this.#inner).getToken(options);
  }

  async #discover(): Promise<ClientCredentialsTokenSource> {
    const candidates = [
      ...(this.#challengeUrl ? [this.#challengeUrl] : []),
      ...protectedResourceMetadataUrls(this.#opts.serverUrl).map(String),
    ];
    let last: unknown;
    for (const url of candidates) {
      try {
        this.#metadata = await fetchProtectedResourceMetadata(url);
        break;
      } catch (err) {
        last = err;
      }
    }
    if (!this.#metadata) {
      if (describeFailure(last).includes('ECONNREFUSED')) {
        throw new ClientError(
          'connect_failed',
          `connection refused at ${this.#opts.serverUrl}: is the server running? (its resource metadata names the ` +
            'authorization server; or set OAUTH_ISSUER / OAUTH_TOKEN_URL)',
          { cause: last },
        );
      }
      const why = last instanceof Error ? last.message : String(last);
      throw new ClientError(
        'token_endpoint',
        `cannot discover the authorization server of ${this.#opts.serverUrl} (${why}): set OAUTH_ISSUER or OAUTH_TOKEN_URL`,
        { cause: last },
      );
    }
    const { serverUrl: _s, resourceMetadataUrl: _r, ...rest } = this.#opts;
    return new ClientCredentialsTokenSource({ ...rest, issuer: this.#metadata.authorization_servers?.[0] as string });
  }
}
