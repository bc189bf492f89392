// The SDK v2 Client in its default mode (2025-11-25, initialize first) drives the server through a
// minimal ws client transport that sends the Authorization header (SDK v2 has no WebSocket transport).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, type JSONRPCMessage, parseJSONRPCMessage, type Transport } from '@modelcontextprotocol/client';
import WebSocket from 'ws';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';

class HeaderWsTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  #ws: WebSocket | undefined;
  readonly #url: string;
  readonly #token: string;
  constructor(url: string, token: string) {
    this.#url = url;
    this.#token = token;
  }
  start(): Promise<void> {
    const ws = new WebSocket(this.#url, ['mcp'], { headers: { authorization: `Bearer ${this.#token}` } });
    this.#ws = ws;
    ws.on('message', (data) => this.onmessage?.(parseJSONRPCMessage(JSON.parse(data.toString()))));
    ws.on('close', () => this.onclose?.());
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
  }
  async send(message: JSONRPCMessage): Promise<void> {
    this.#ws?.send(JSON.stringify(message));
  }
  async close(): Promise<void> {
    this.#ws?.close();
  }
}

describe('SDK Client interop', () => {
  let kc: LocalIssuer;
  let server: TestServer;
  let root: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'interop-'));
    writeFileSync(path.join(root, 'note.txt'), 'über\n');
    kc = await startLocalIssuer();
    server = await startTestServer(kc, root);
  });
  after(async () => {
    await server.close();
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('initializes, pings, lists and calls tools with schema-validated results', async () => {
    const client = new Client({ name: 'interop', version: '0' });
    await client.connect(new HeaderWsTransport(server.wsUrl, await kc.sign()));
    assert.equal(client.getProtocolEra(), 'legacy');
    assert.equal(client.getServerVersion()?.name, 'mcp-ws-file-server');
    await client.ping();
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['list-files', 'read-file']);
    const listed = await client.callTool({ name: 'list-files', arguments: {} });
    assert.deepEqual(
      (listed.structuredContent as { entries: { path: string }[] }).entries.map((e) => e.path),
      ['note.txt'],
    );
    const read = await client.callTool({ name: 'read-file', arguments: { filePath: 'note.txt' } });
    assert.deepEqual((read.content as { text: string }[])[0]?.text, 'über\n');
    const bad = await client.callTool({ name: 'read-file', arguments: { filePath: '../x' } });
    assert.equal(bad.isError, true);
    await client.close();
  });
});
