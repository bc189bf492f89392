import type { BearerChallenge } from 'mcp-ws-common';
import { ClientError } from '../errors.ts';
import { type ClientCredentialsOptions, ClientCredentialsTokenSource } from './client-credentials.ts';
import { describeFailure } from './discovery-errors.ts';
import type { GetTokenOptions, TokenSource } from './token-source.ts';
import { canonicalResource, httpOrigin, requireSecureTransport } from './trust.ts';

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
    // No redirects: a document served from another origin is not the server's own (RFC 9728 §3).
    res = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
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

/** Options of {@link ResourceDiscoveryTokenSource}: client credentials whose issuer the server's metadata confirms. */
export interface ResourceDiscoveryOptions extends Omit<ClientCredentialsOptions, 'issuer' | 'tokenUrl'> {
  /** The MCP server's URL (`ws(s):` or `http(s):`); its well-known metadata URLs are derived from it. */
  readonly serverUrl: string | URL;
  /** A metadata URL already known (e.g. from a 401's `resource_metadata`); tried first, if on the server's origin. */
  readonly resourceMetadataUrl?: string | URL | undefined;
  /**
   * Issuers the secret may go to. The metadata may pick one of these (the first it lists), never
   * another: with none, discovery only reports which issuer to configure. Default none.
   */
  readonly trustedIssuers?: readonly string[] | undefined;
}

/**
 * MCP-style discovery that never lets the server choose where the secret goes: reads the server's
 * protected resource metadata (from the server's own origin, over an allowed transport), checks
 * that its `resource` is the server the client was pointed at (RFC 9728 §3.3), and uses the first
 * authorization server it lists that is among `trustedIssuers`. Otherwise it refuses, naming the
 * setting to change, and nothing is sent to any authorization server.
 */
export class ResourceDiscoveryTokenSource implements TokenSource {
  readonly refreshable = true;
  readonly clientId: string;
  readonly #opts: ResourceDiscoveryOptions;
  /** The resource expected in the metadata (and sent as RFC 8707 `resource`). */
  readonly #resource: string;
  #challengeUrl: string | undefined;
  #inner: Promise<ClientCredentialsTokenSource> | undefined;
  #metadata: ProtectedResourceMetadata | undefined;

  constructor(options: ResourceDiscoveryOptions) {
    this.#opts = options;
    this.clientId = options.clientId;
    this.#resource = canonicalResource(options.resource ?? options.serverUrl);
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
    const metadata = await this.#fetchMetadata();
    const servers = metadata.authorization_servers ?? [];
    const trusted = this.#opts.trustedIssuers ?? [];
    const issuer = servers.find((s) => trusted.includes(s));
    if (issuer === undefined) {
      throw new ClientError(
        'untrusted',
        `refusing to send the client secret to ${servers[0]}, the authorization server named by the metadata of ` +
          `${this.#opts.serverUrl}: credentials go only to an issuer you configure; if you trust it, set ` +
          `OAUTH_ISSUER=${servers[0]}`,
      );
    }
    this.#metadata = metadata;
    const { serverUrl: _s, resourceMetadataUrl: _r, trustedIssuers: _t, ...rest } = this.#opts;
    return new ClientCredentialsTokenSource({ ...rest, issuer, resource: this.#resource });
  }

  /** The first acceptable metadata document: same origin as the server, naming this resource. */
  async #fetchMetadata(): Promise<ProtectedResourceMetadata> {
    const origin = httpOrigin(this.#opts.serverUrl);
    const candidates = protectedResourceMetadataUrls(this.#opts.serverUrl).map(String);
    const challenged = this.#challengeUrl;
    let last: unknown;
    if (challenged !== undefined) {
      if (httpOrigin(challenged) === origin) candidates.unshift(challenged);
      else {
        last = new ClientError(
          'untrusted',
          `ignored the resource metadata URL ${challenged} from the server's challenge: it is not on the ` +
            `server's origin ${origin}`,
        );
      }
    }
    requireSecureTransport(origin, 'a metadata request', this.#opts.insecureHosts ?? []);
    for (const url of candidates) {
      try {
        const meta = await fetchProtectedResourceMetadata(url, (this.#opts.timeoutSeconds ?? 10) * 1000);
        if (canonicalResource(meta.resource) !== this.#resource) {
          throw new ClientError(
            'untrusted',
            `refusing the resource metadata at ${url}: it describes ${meta.resource}, not ${this.#resource} ` +
              '(RFC 9728 §3.3); if the server sits behind another name, set OAUTH_RESOURCE to its canonical URI',
          );
        }
        return meta;
      } catch (err) {
        // A document for another resource is an answer, not a miss: stop and say so.
        if (err instanceof ClientError && err.code === 'untrusted') throw err;
        last = err;
      }
    }
    if (describeFailure(last).includes('ECONNREFUSED')) {
      throw new ClientError(
        'connect_failed',
        `connection refused at ${this.#opts.serverUrl}: is the server running? (or set OAUTH_ISSUER / OAUTH_TOKEN_URL)`,
        { cause: last },
      );
    }
    const why = last instanceof Error ? last.message : String(last);
    throw new ClientError(
      last instanceof ClientError && last.code === 'untrusted' ? 'untrusted' : 'token_endpoint',
      `cannot discover the authorization server of ${this.#opts.serverUrl} (${why}): set OAUTH_ISSUER or OAUTH_TOKEN_URL`,
      { cause: last },
    );
  }
}
