// What the CIMD test needs around Keycloak: an https server for client ID metadata documents where
// the Keycloak container can reach it, the realm policy that trusts it, and a plain authorization
// request to see Keycloak's refusals without a browser.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { DOCKER_HOST_NAME } from './keycloak-container.ts';
import type { ServerCertificate } from './test-ca.ts';

/** Path of the document on a document server. */
export const DOCUMENT_PATH = '/mcp-client/client-metadata.json';

/**
 * The Docker bridge gateway of the Keycloak container: the host address Keycloak can reach, and
 * what `host.docker.internal` (host-gateway) resolves to in it on the default bridge.
 */
export async function bridgeGateway(containerId: string): Promise<string> {
  const { stdout } = await promisify(execFile)('docker', [
    'inspect',
    '-f',
    '{{range .NetworkSettings.Networks}}{{.Gateway}} {{end}}',
    containerId,
  ]);
  const gateway = stdout.trim().split(/\s+/)[0];
  if (!gateway) throw new Error(`no bridge gateway for container ${containerId}`);
  return gateway;
}

/** What the Keycloak container logged since `since` (stdout and stderr), to see a server error's cause. */
export async function keycloakLogSince(containerId: string, since: Date): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(
    'docker',
    ['logs', '--since', since.toISOString(), containerId],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return stdout + stderr;
}

/** An https server for one CIMD document, and what it saw. */
export interface DocumentServer {
  readonly server: Server;
  /** The document's URL as Keycloak reaches it: the client_id. */
  readonly url: string;
  /** Paths requested. */
  readonly fetched: string[];
  /** TCP connections accepted, and TLS handshakes that failed (their messages). */
  readonly seen: { connections: number; tlsErrors: string[] };
  /** The JSON served (set it once the redirect URI is known). */
  document: string;
}

/** Serves a document over https with `certificate` on `address` only (the bridge: it is for Keycloak). */
export async function serveDocument(certificate: ServerCertificate, address: string): Promise<DocumentServer> {
  const served = { fetched: [] as string[], seen: { connections: 0, tlsErrors: [] as string[] }, document: '' };
  const server = createServer(certificate, (req, res) => {
    served.fetched.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }).end(served.document);
  });
  server.on('connection', () => void served.seen.connections++);
  server.on('tlsClientError', (error) => void served.seen.tlsErrors.push(error.message));
  server.listen(0, address);
  await once(server, 'listening');
  const url = `https://${DOCKER_HOST_NAME}:${(server.address() as AddressInfo).port}${DOCUMENT_PATH}`;
  return Object.assign(served, { server, url });
}

/** A document for `clientId`: a public client with exactly `redirectUri`, asking for `scope`. */
export function clientMetadata(clientId: string, redirectUri: string, scope: string): string {
  return JSON.stringify({
    client_id: clientId,
    client_name: 'mcp-client (CIMD test)',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope,
  });
}

/**
 * Realm overrides with a CIMD policy of the repository's shape (keycloak/realm-export.json,
 * `mcp-hosts-cimd`) trusting documents on `host`, over https only ("Allow http scheme" off).
 */
export function cimdPolicy(host: string): Record<string, unknown> {
  return {
    clientProfiles: {
      profiles: [
        {
          name: 'test-cimd',
          executors: [
            {
              executor: 'client-id-metadata-document',
              configuration: {
                'cimd-allow-http-scheme': false,
                // the document's host and the CLI's loopback redirect host
                'cimd-allow-permitted-domains': [host, '127.0.0.1'],
                'cimd-restrict-same-domain': false,
              },
            },
          ],
        },
      ],
    },
    clientPolicies: {
      policies: [
        {
          name: 'test-cimd',
          enabled: true,
          conditions: [
            {
              condition: 'client-id-uri',
              configuration: { 'client-id-uri-scheme': ['https'], 'client-id-uri-allow-permitted-domains': [host] },
            },
          ],
          profiles: ['test-cimd'],
        },
      ],
    },
  };
}

/** Sends an authorization request for `clientId` straight to Keycloak (no browser): status and error message. */
export async function authorize(issuer: string, clientId: string): Promise<{ status: number; error: string }> {
  const url = new URL(`${issuer}/protocol/openid-connect/auth`);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: 'http://127.0.0.1:9/callback',
    response_type: 'code',
    scope: 'openid',
    state: 'cimd-test',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  const page = await res.text();
  // Keycloak's error page: <div id="kc-error-message"><p class="instruction">…</p>
  const error = /id="kc-error-message">\s*<p[^>]*>([^<]*)<\/p>/.exec(page)?.[1]?.trim();
  return {
    status: res.status,
    error: error ?? `(no error page; ${res.headers.get('location') ?? page.slice(0, 200)})`,
  };
}
