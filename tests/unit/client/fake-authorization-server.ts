// A local OAuth authorization server for the sign-in tests, and the protected resource metadata
// of an MCP server that names it: RFC 8414 metadata (RFC 9207 `iss` advertised), RFC 7591
// registration, an authorization endpoint that redirects straight back with a code (the person
// approves at once), and a token endpoint. Everything it receives is recorded, so a test can say
// what reached the authorization server and what never did.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake authorization server does besides the basics. */
export interface FakeAsOptions {
  /** Offer `registration_endpoint`. Default true. */
  readonly registration?: boolean;
  /** Advertise `client_id_metadata_document_supported`. Default false. */
  readonly cimd?: boolean;
  /** Fields added to each registration's answer (e.g. a secret and its authentication method). */
  readonly registered?: Record<string, unknown>;
}

/** A recorded token request. */
export interface TokenRequest {
  readonly form: URLSearchParams;
  readonly authorization: string | undefined;
}

/** A running fake authorization server. */
export interface FakeAs {
  readonly issuer: string;
  readonly registrations: Record<string, unknown>[];
  /** The client ids registration handed out (unique to this server), in order. */
  readonly clientIds: string[];
  readonly authorizations: URLSearchParams[];
  readonly tokens: TokenRequest[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Starts a fake authorization server on 127.0.0.1. */
export async function startFakeAs(options: FakeAsOptions = {}): Promise<FakeAs> {
  const registrations: Record<string, unknown>[] = [];
  const clientIds: string[] = [];
  const authorizations: URLSearchParams[] = [];
  const tokens: TokenRequest[] = [];
  let issuer = '';
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    if (req.method === 'GET' && url.pathname === '/.well-known/oauth-authorization-server') {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        ...(options.registration === false ? {} : { registration_endpoint: `${issuer}/register` }),
        ...(options.cimd ? { client_id_metadata_document_supported: true } : {}),
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      });
    }
    if (req.method === 'POST' && url.pathname === '/register') {
      const metadata = JSON.parse(await body(req)) as Record<string, unknown>;
      registrations.push(metadata);
      clientIds.push(`client-${new URL(issuer).port}-${registrations.length}`);
      return json(201, { ...metadata, client_id: clientIds.at(-1), ...options.registered });
    }
    if (req.method === 'GET' && url.pathname === '/authorize') {
      authorizations.push(url.searchParams);
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', `code-${authorizations.length}`);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      back.searchParams.set('iss', issuer);
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      tokens.push({ form: new URLSearchParams(await body(req)), authorization: req.headers.authorization });
      const scope = authorizations.at(-1)?.get('scope') ?? undefined;
      return json(200, { access_token: `token-${tokens.length}`, token_type: 'Bearer', expires_in: 300, scope });
    }
    res.writeHead(404).end();
  });
  issuer = await listen(server);
  return { issuer, registrations, clientIds, authorizations, tokens, close: () => closeServer(server) };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
}

/** The protected resource metadata of an MCP server at `<origin>/mcp`, naming what `document()` says. */
export interface FakeResource {
  /** The MCP server URL (`http://127.0.0.1:<port>/mcp`). */
  readonly serverUrl: string;
  /** Times the metadata was fetched. */
  readonly fetches: () => number;
  close(): Promise<void>;
}

/** Serves `/.well-known/oauth-protected-resource/mcp` with `document(serverUrl)`. */
export async function startFakeResource(
  document: (serverUrl: string) => Record<string, unknown>,
): Promise<FakeResource> {
  let serverUrl = '';
  let fetches = 0;
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/oauth-protected-resource/mcp') {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document(serverUrl)));
      return;
    }
    res.writeHead(404).end();
  });
  serverUrl = `${await listen(server)}/mcp`;
  return { serverUrl, fetches: () => fetches, close: () => closeServer(server) };
}

/** The person's browser in these tests: follows the authorization server's redirect back to the loopback listener. */
export function approveInBrowser(prompt: { kind: string; url?: string }): void {
  if (prompt.kind === 'browser' && prompt.url !== undefined) void fetch(prompt.url).then((r) => r.text());
}
