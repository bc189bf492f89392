// A tiny local OpenID provider for unit tests: discovery + JWKS on 127.0.0.1:0, RS256 keys from jose.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export interface LocalIssuer {
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly publicKey: Awaited<ReturnType<typeof generateKeyPair>>['publicKey'];
  /** Signs an RFC 9068 access token (header typ at+jwt): defaults iss, aud mcp-server, azp test-client, sub user-1, scope file.read file.list, exp +5 min. */
  sign(claims?: JWTPayload, options?: { kid?: string; expiresIn?: number | string; omit?: string[] }): Promise<string>;
  close(): Promise<void>;
}

export async function startLocalIssuer(): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server = createServer((req, res) => {
    if (req.url === '/realms/test/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/certs` }));
    } else if (req.url === '/realms/test/certs') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  issuer = `http://127.0.0.1:${port}/realms/test`;
  return {
    issuer,
    jwksUrl: `${issuer}/certs`,
    publicKey,
    async sign(claims = {}, options = {}) {
      const omit = new Set(options.omit ?? []);
      const body: JWTPayload = { azp: 'test-client', scope: 'file.read file.list', ...claims };
      const header = { alg: 'RS256', kid: options.kid ?? 'k1', typ: 'at+jwt' };
      const jwt = new SignJWT(body).setProtectedHeader(header).setIssuedAt();
      if (!omit.has('iss')) jwt.setIssuer(claims.iss ?? issuer);
      if (!omit.has('aud')) jwt.setAudience(claims.aud ?? 'mcp-server');
      if (!omit.has('sub')) jwt.setSubject(claims.sub ?? 'user-1');
      if (!omit.has('exp')) jwt.setExpirationTime(claims.exp ?? options.expiresIn ?? '5m');
      return jwt.sign(privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
