// Interop with a client nobody here wrote: the MCP TypeScript SDK v2 `Client`
// (@modelcontextprotocol/client) against the real server with real Keycloak tokens, in each of its
// version-negotiation modes — pinned to 2026-07-28, `auto` (discover, fall back to initialize) and
// `legacy` (initialize) — over Streamable HTTP (the SDK's own transport with an Authorization
// header) and over WebSocket (tests/interop/ws-client-transport.ts, written from docs/transport.md).
// Each case connects (server/discover or initialize), lists tools, reads a file, lists a directory,
// and with a token that lacks file.read sees read-file refused (HTTP: 403 insufficient_scope step-up
// challenge; WebSocket: an error result), as docs/http-transport.md and docs/transport.md say.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type CallToolResult,
  Client,
  InsufficientScopeError,
  StreamableHTTPClientTransport,
  type Transport,
  type VersionNegotiationMode,
} from '@modelcontextprotocol/client';
import { createLogger, loadConfig, type ServerHandle, startServer } from '../../mcp-server/src/index.ts';
import { WebSocketClientTransport } from '../interop/ws-client-transport.ts';
import { keycloak } from '../support/keycloak.ts';

const kc = keycloak();
const DATA = path.resolve(import.meta.dirname, '../../data');

/** Each negotiation mode and the era and revision it must end up with against this server. */
const MODES: { name: string; mode: VersionNegotiationMode; era: 'modern' | 'legacy'; revision: string }[] = [
  { name: 'pinned to 2026-07-28', mode: { pin: '2026-07-28' }, era: 'modern', revision: '2026-07-28' },
  { name: 'auto', mode: 'auto', era: 'modern', revision: '2026-07-28' },
  { name: 'legacy', mode: 'legacy', era: 'legacy', revision: '2025-11-25' },
];
const TRANSPORTS = ['Streamable HTTP', 'WebSocket'] as const;

function text(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === 'text' ? first.text : '';
}

describe('TypeScript SDK v2 Client against the server', () => {
  let server: ServerHandle;
  let full: string;
  let lister: string;
  before(async () => {
    // Tokens requested without resource: aud is the client id mcp-server (compatibility audience).
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      TARGET_DIR: DATA,
      OAUTH_ISSUER: kc.issuer,
      OAUTH_AUDIENCE: 'mcp-server',
    });
    server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
    await server.ready;
    full = await kc.token('full');
    lister = await kc.token('lister', 'file.list');
  });
  after(() => server.close());

  function transport(kind: (typeof TRANSPORTS)[number], token: string): Transport {
    if (kind === 'WebSocket') return new WebSocketClientTransport(server.wsUrl, token);
    return new StreamableHTTPClientTransport(new URL(server.httpUrl), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
  }

  async function connect(kind: (typeof TRANSPORTS)[number], mode: VersionNegotiationMode, token: string) {
    const client = new Client({ name: 'interop-ts-sdk', version: '1.0.0' }, { versionNegotiation: { mode } });
    await client.connect(transport(kind, token));
    return client;
  }

  for (const kind of TRANSPORTS) {
    for (const m of MODES) {
      it(`${m.name} over ${kind}: connects as ${m.revision}, lists tools, reads, lists, refuses without scope`, async () => {
        const client = await connect(kind, m.mode, full);
        try {
          assert.equal(client.getProtocolEra(), m.era);
          assert.equal(client.getNegotiatedProtocolVersion(), m.revision);
          if (m.era === 'modern') {
            // server/discover answered: the revision is among those the server supports.
            assert.ok(client.getDiscoverResult()?.supportedVersions.includes('2026-07-28'));
          } else {
            assert.ok(client.getServerVersion()?.name, 'initialize answered with serverInfo');
          }
          const tools = (await client.listTools()).tools.map((t) => t.name).sort();
          assert.deepEqual(tools, ['list-files', 'read-file']);

          const read = (await client.callTool({
            name: 'read-file',
            arguments: { filePath: 'sample1.txt' },
          })) as CallToolResult;
          assert.notEqual(read.isError, true, text(read));
          assert.equal(text(read), readFileSync(path.join(DATA, 'sample1.txt'), 'utf8'));

          const listed = (await client.callTool({
            name: 'list-files',
            arguments: { directory: '.' },
          })) as CallToolResult;
          assert.notEqual(listed.isError, true, text(listed));
          const entries = (listed.structuredContent as { entries: { name: string }[] }).entries.map((e) => e.name);
          assert.deepEqual(entries.sort(), ['sample1.txt', 'sample2.txt']);
        } finally {
          await client.close();
        }

        const limited = await connect(kind, m.mode, lister);
        try {
          assert.deepEqual(
            (await limited.listTools()).tools.map((t) => t.name),
            ['list-files'],
          );
          const call = limited.callTool({ name: 'read-file', arguments: { filePath: 'sample1.txt' } });
          if (kind === 'Streamable HTTP') {
            // 403 insufficient_scope naming the scope the tool needs (step-up), as the SDK reports it.
            await assert.rejects(call, (err: unknown) => {
              assert.ok(err instanceof InsufficientScopeError, String(err));
              assert.equal(err.requiredScope, 'file.read');
              return true;
            });
          } else {
            // A WebSocket has no status per call: an error result naming the missing scope.
            const refused = (await call) as CallToolResult;
            assert.equal(refused.isError, true);
            assert.match(text(refused), /read-file needs scope file\.read/);
          }
        } finally {
          await limited.close();
        }
      });
    }
  }
});
