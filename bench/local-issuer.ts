/**
 * A local OpenID provider on 127.0.0.1:0 for the benchmark: discovery, JWKS, and a
 * client-credentials token endpoint that counts its requests. RS256 keys from jose.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/** Options of {@link startLocalIssuer}. */
export interface LocalIssuerOptions {
  /** Lifetime of tokens from the token endpoint, in seconds. Default 300. */
  readonly tokenLifetimeSeconds?: number;
  /** Client id the token endpoint accepts (HTTP Basic or form). Default `bench`. */
  readonly clientId?: string;
  /** Its secret. Default `bench-secret`. */
  readonly clientSecret?: string;
}

/** A running local issuer. */
export interface LocalIssuer {
  /** Issuer URL (`iss` of every token). */
  readonly issuer: string;
  /** JWKS URL. */
  readonly jwksUrl: string;
  /** Token endpoint URL (client_credentials only). */
  readonly tokenUrl: string;
  /** Requests the token endpoint answered with a token so far. */
  readonly tokenRequests: number;
  /**
   * Signs an access token for `mcp-server` with scope `file.read file.list`, azp `bench`.
   * @param lifetimeSeconds seconds until `exp`. Default 3600.
   */
  sign(sub?: string, lifetimeSeconds?: number): Promise<string>;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const SCOPE = 'file.read file.list';

/** Starts a {@link LocalIssuer} on 127.0.0.1 with a free port. */
export async function startLocalIssuer(options: LocalIssuerOptions = {}): Promise<LocalIssuer> {
  const lifetime = options.tokenLifetimeSeconds ?? 300;
  const clientId = options.clientId ?? 'bench';
  const clientSecret = options.clientSecret ?? 'bench-secret';
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  let issuer = '';
  let tokenRequests = 0;

  const sign = (sub = 'bench-user', lifetimeSeconds = 3600, azp = clientId) =>
    new SignJWT({ azp, scope: SCOPE })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience('mcp-server')
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + lifetimeSeconds)
      .sign(privateKey);

  const server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        jwks_uri: `${issuer}/certs`,
        token_endpoint: `${issuer}/token`,
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      });
    }
    if (req.method === 'GET' && req.url === '/certs') return json(200, { keys: [jwk] });
    if (req.method === 'POST' && req.url === '/token') {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const [id, secret] = basicCredentials(req.headers.authorization) ?? [
          form.get('client_id'),
          form.get('client_secret'),
        ];
        if (form.get('grant_type') !== 'client_credentials') return json(400, { error: 'unsupported_grant_type' });
        if (id !== clientId || secret !== clientSecret) return json(401, { error: 'invalid_client' });
        tokenRequests++;
        sign('service-account-bench', lifetime).then(
          (token) => json(200, { access_token: token, token_type: 'Bearer', expires_in: lifetime, scope: SCOPE }),
          () => json(500, { error: 'server_error' }),
        );
      });
      return;
    }
    json(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    jwksUrl: `${issuer}/certs`,
    tokenUrl: `${issuer}/token`,
    get tokenRequests() {
      return tokenRequests;
    },
    sign: (sub, lifetimeSeconds) => sign(sub, lifetimeSeconds),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function basicCredentials(header: string | undefined): [string, string] | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString();
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return [decodeURIComponent(decoded.slice(0, colon)), decodeURIComponent(decoded.slice(colon + 1))];
}
