import { readFile } from 'node:fs/promises';
import { ServerError } from '../errors.ts';
import { discoveryDocumentUrl, rewriteJwksUri } from './oidc-discovery.ts';

/** Options of {@link IntrospectionClient}. */
export interface IntrospectionClientOptions {
  /** Expected `iss` (OAUTH_ISSUER): the discovery document is looked up under it. */
  readonly issuer: string;
  /** Base URL to reach the authorization server at instead of the issuer (OAUTH_DISCOVERY_URL). */
  readonly discoveryUrl?: string | undefined;
  /** The server's own confidential client at the authorization server (INTROSPECTION_CLIENT_ID). */
  readonly clientId: string;
  /** File holding that client's secret (INTROSPECTION_CLIENT_SECRET_FILE); read again after a 401. */
  readonly secretFile: string;
  /** Timeout of one request, in ms. */
  readonly timeoutMs: number;
}

/** What the authorization server said about one token (RFC 7662 §2.2). */
export interface IntrospectionResult {
  readonly active: boolean;
}

// RFC 6749 §2.3.1: client_secret_basic encodes id and secret as form values before base64.
function basicCredentials(clientId: string, secret: string): string {
  const form = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${form(clientId)}:${form(secret)}`).toString('base64')}`;
}

/**
 * An RFC 7662 token introspection client: asks the authorization server whether a token is still
 * active, authenticated as the server's own confidential client (client_secret_basic). The
 * endpoint comes from the issuer's discovery document (`introspection_endpoint`, its origin
 * rewritten to OAUTH_DISCOVERY_URL's like the JWKS URL); the secret is read from its file, again
 * after a 401 so a rotated secret is picked up. Every failure (unreachable, timeout, non-200, a
 * body without boolean `active`) is a ServerError `introspection_unavailable`: the caller decides
 * what an unknown verdict means. Tokens and secrets never appear in errors.
 */
export class IntrospectionClient {
  readonly #options: IntrospectionClientOptions;
  #endpoint: Promise<URL> | undefined;
  #secret: Promise<string> | undefined;
  #requests = 0;

  constructor(options: IntrospectionClientOptions) {
    this.#options = options;
  }

  /** Introspection requests sent so far (figures and tests). */
  get requests(): number {
    return this.#requests;
  }

  /** Whether `token` is active now. @throws ServerError `introspection_unavailable` */
  async introspect(token: string): Promise<IntrospectionResult> {
    const endpoint = await this.#endpointUrl();
    let res = await this.#post(endpoint, token, await this.#readSecret(false));
    if (res.status === 401) {
      await res.body?.cancel();
      // The secret may have been rotated (file rewritten) since it was read: read it once more.
      res = await this.#post(endpoint, token, await this.#readSecret(true));
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ServerError('introspection_unavailable', `introspection answered HTTP ${res.status}`);
    }
    const body = (await res.json().catch(() => undefined)) as { active?: unknown } | undefined;
    if (typeof body?.active !== 'boolean') {
      throw new ServerError('introspection_unavailable', 'introspection answered without a boolean "active"');
    }
    return { active: body.active };
  }

  async #post(endpoint: URL, token: string, secret: string): Promise<Response> {
    this.#requests += 1;
    try {
      return await fetch(endpoint, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicCredentials(this.#options.clientId, secret),
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown } }).cause;
      const code = typeof cause?.code === 'string' ? cause.code : (err as Error).name;
      throw new ServerError('introspection_unavailable', `introspection request failed (${code})`, { cause: err });
    }
  }

  #readSecret(again: boolean): Promise<string> {
    if (again || this.#secret === undefined) {
      const reading = readFile(this.#options.secretFile, 'utf8').then(
        (s) => s.trim(),
        (err: NodeJS.ErrnoException) => {
          throw new ServerError(
            'introspection_unavailable',
            `cannot read INTROSPECTION_CLIENT_SECRET_FILE (${err.code})`,
          );
        },
      );
      // A failed read is tried again next time rather than remembered.
      reading.catch(() => {
        if (this.#secret === reading) this.#secret = undefined;
      });
      this.#secret = reading;
    }
    return this.#secret;
  }

  #endpointUrl(): Promise<URL> {
    if (this.#endpoint === undefined) {
      const finding = this.#discover();
      finding.catch(() => {
        if (this.#endpoint === finding) this.#endpoint = undefined;
      });
      this.#endpoint = finding;
    }
    return this.#endpoint;
  }

  async #discover(): Promise<URL> {
    const { issuer, discoveryUrl, timeoutMs } = this.#options;
    const url = discoveryDocumentUrl(discoveryUrl ?? issuer);
    let body: { issuer?: unknown; introspection_endpoint?: unknown };
    try {
      const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = (await res.json()) as typeof body;
    } catch (err) {
      throw new ServerError(
        'introspection_unavailable',
        `discovery for introspection failed: ${(err as Error).message}`,
      );
    }
    if (body.issuer !== issuer || typeof body.introspection_endpoint !== 'string') {
      throw new ServerError('introspection_unavailable', `${url.href} names no introspection_endpoint for ${issuer}`);
    }
    return rewriteJwksUri(body.introspection_endpoint, issuer, discoveryUrl);
  }
}
