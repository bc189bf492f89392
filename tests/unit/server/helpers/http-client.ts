// A raw Streamable HTTP client for transport tests: node:http (any Host/Origin header), JSON or SSE replies.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Reply } from './ws-client.ts';

export const PROTOCOL_VERSION = '2025-11-25';

/** One answer: status, headers, raw text, and the JSON-RPC messages it carried (JSON body or SSE `data:` lines). */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  messages: Reply[];
}

export interface HttpRequestOptions {
  method?: string;
  token?: string;
  session?: string;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  /** Send the body without Content-Length (chunked). */
  chunked?: boolean;
}

/** Parses the JSON-RPC messages of an answer body (JSON, or SSE events). */
export function messagesOf(contentType: string | undefined, text: string): Reply[] {
  if (contentType?.startsWith('text/event-stream')) {
    return text
      .split('\n')
      .filter((l) => l.startsWith('data:') && l.slice(5).trim() !== '')
      .map((l) => JSON.parse(l.slice(5)));
  }
  if (text === '') return [];
  try {
    const parsed = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return [];
  }
}

/** Sends one request to `url` (default POST) and resolves with the whole answer. */
export function mcpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  const method = options.method ?? 'POST';
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    accept: method === 'GET' ? 'text/event-stream' : 'application/json, text/event-stream',
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(body === undefined || options.chunked ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.session ? { 'mcp-session-id': options.session, 'mcp-protocol-version': PROTOCOL_VERSION } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          messages: messagesOf(res.headers['content-type'], text),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A JSON-RPC request body. */
export function rpc(id: number | string, method: string, params?: unknown): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) };
}

export const INITIALIZE = rpc(0, 'initialize', {
  protocolVersion: PROTOCOL_VERSION,
  capabilities: {},
  clientInfo: { name: 'test', version: '0' },
});

/** initialize + notifications/initialized; resolves with the Mcp-Session-Id. */
export async function openSession(url: string, token: string): Promise<string> {
  const init = await mcpRequest(url, { token, body: INITIALIZE });
  if (init.status !== 200) throw new Error(`initialize answered ${init.status}: ${init.text}`);
  const session = init.headers['mcp-session-id'];
  if (typeof session !== 'string') throw new Error('initialize carried no Mcp-Session-Id');
  const note = await mcpRequest(url, {
    token,
    session,
    body: { jsonrpc: '2.0', method: 'notifications/initialized' },
  });
  if (note.status !== 202) throw new Error(`notifications/initialized answered ${note.status}: ${note.text}`);
  return session;
}

/** Sends one request in a session and resolves with the answer and its (single) reply. */
export async function call(
  url: string,
  token: string,
  session: string,
  id: number,
  method: string,
  params?: unknown,
): Promise<HttpAnswer & { reply: Reply | undefined }> {
  const answer = await mcpRequest(url, { token, session, body: rpc(id, method, params) });
  return { ...answer, reply: answer.messages.find((m) => m.id === id) };
}
