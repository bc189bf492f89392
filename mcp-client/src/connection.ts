import { Client, type Implementation, type Transport } from '@modelcontextprotocol/client';
import type { TokenSource } from './auth/token-source.ts';
import { mapConnectError } from './call-failure.ts';
import { negotiationOptions, type ProtocolChoice } from './protocol-era.ts';
import { type RenewalEvent, TokenRenewal } from './renewal.ts';
import { createHttpClientTransport, isHttpUrl } from './transport/http-client-transport.ts';
import { type CloseInfo, WsClientTransport } from './transport/ws-client-transport.ts';

/** One connected MCP client (an initialized 2025-era session, or a 2026-era connection) over one transport. */
export interface Connection {
  readonly client: Client;
  /** A WebSocket transport reports its close code; Streamable HTTP can `abandon` a session. */
  readonly transport: Transport & {
    readonly closeInfo?: CloseInfo | undefined;
    abandon?: ((reason: string) => void) | undefined;
  };
  /** Settles when this connection has closed. */
  readonly closed: Promise<void>;
}

/** Options of {@link openConnection}. */
export interface OpenConnectionOptions {
  readonly url: string | URL;
  /** The bearer token for the upgrade / first request (already fetched). */
  readonly token: string;
  readonly tokenSource: TokenSource;
  readonly clientInfo: Implementation;
  /** Which revision to speak; see {@link ProtocolChoice}. */
  readonly protocol: ProtocolChoice;
  /** Timeout of the handshake (`server/discover` probe, `initialize`), in ms. */
  readonly requestTimeoutMs: number;
  readonly handshakeTimeoutMs?: number | undefined;
  readonly pingIntervalMs?: number | undefined;
  readonly pingTimeoutMs?: number | undefined;
  /** Called with the protocol revision negotiated (`server/discover` or `initialize`). */
  onProtocolVersion(version: string): void;
  /** Called once when the connection closes after it was opened. */
  onClose(conn: Connection): void;
  /** Told about in-band token renewal (WebSocket only; see {@link TokenRenewal}). */
  onRenewal?: ((event: RenewalEvent) => void) | undefined;
}

/**
 * Opens a WebSocket (`ws(s)://`) or Streamable HTTP (`http(s)://`) transport and connects MCP in
 * the era `protocol` asks for: with `auto`, the SDK probes with `server/discover` and falls back
 * to `initialize` when the server gives no sign of 2026-07-28 (a 2025-era server answers the
 * probe with an error such as -32601, or 400 over HTTP).
 * @throws ClientError from the transport (`upgrade_refused`, `insufficient_scope`, `connect_failed`) or `protocol`.
 */
export async function openConnection(o: OpenConnectionOptions): Promise<Connection> {
  const { tokenSource, token } = o;
  const transport: Connection['transport'] = isHttpUrl(o.url)
    ? createHttpClientTransport({ url: o.url, token, tokenSource })
    : new WsClientTransport({
        url: o.url,
        token,
        clientId: tokenSource.clientId,
        handshakeTimeoutMs: o.handshakeTimeoutMs,
        pingIntervalMs: o.pingIntervalMs,
        pingTimeoutMs: o.pingTimeoutMs,
      });
  // Keep the transport's own hook (Streamable HTTP sends MCP-Protocol-Version with it).
  const ownHook = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (v) => {
    ownHook?.(v);
    o.onProtocolVersion(v);
  };
  const client = new Client(o.clientInfo, { capabilities: {}, ...negotiationOptions(o.protocol) });
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const conn: Connection = { client, transport, closed };
  let renewal: TokenRenewal | undefined;
  client.onclose = () => {
    renewal?.stop();
    markClosed();
    o.onClose(conn);
  };
  client.onerror = () => undefined; // bad frames are reported per request; nothing to do here
  try {
    await client.connect(transport, { timeout: o.requestTimeoutMs });
  } catch (err) {
    markClosed();
    await transport.close().catch(() => undefined);
    // Mapped first: over HTTP the SDK wraps the transport's refusal (with its challenge) in a probe failure.
    const failure = mapConnectError(err, { url: String(o.url), protocol: o.protocol, close: transport.closeInfo });
    if (failure.challenge) tokenSource.onChallenge?.(failure.challenge);
    throw failure;
  }
  // Over HTTP every request carries the token source's current token: nothing to renew in-band.
  if (transport instanceof WsClientTransport) {
    const { requestTimeoutMs, onRenewal: onEvent } = o;
    renewal = TokenRenewal.start({ client, tokenSource, token, requestTimeoutMs, onEvent });
  }
  return conn;
}
