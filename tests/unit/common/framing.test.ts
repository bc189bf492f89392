// decodeFrame's shortcut (a plain message skips the SDK's schema) accepts exactly what the SDK's
// JSONRPCMessageSchema accepts, and hands on the same message: compared on a corpus of requests,
// notifications and responses with and without `_meta`, envelope keys and invalid members.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/core';
import { decodeFrame } from 'mcp-ws-common';

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};
const call = (params: unknown, extra: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params,
  ...extra,
});

const CORPUS: readonly [string, unknown][] = [
  ['plain request', call({ name: 'a', arguments: {} })],
  ['no params', { jsonrpc: '2.0', id: 'x', method: 'ping' }],
  ['envelope', call({ name: 'a', _meta: ENVELOPE })],
  ['empty _meta', call({ _meta: {} })],
  ['envelope and a progress token', call({ _meta: { ...ENVELOPE, progressToken: 'p' } })],
  ['invalid progress token', call({ _meta: { progressToken: { x: 1 } } })],
  ['_meta not an object', call({ _meta: 'x' })],
  ['params an array', call([1])],
  ['extra member', call({}, { extra: 1 })],
  ['fractional id', { ...call({}), id: 1.5 }],
  ['null id', { ...call({}), id: null }],
  ['wrong version', { ...call({}), jsonrpc: '1.0' }],
  ['notification', { jsonrpc: '2.0', method: 'notifications/x', params: {} }],
  ['result', { jsonrpc: '2.0', id: 1, result: { content: [] } }],
  ['result with _meta', { jsonrpc: '2.0', id: 1, result: { _meta: { x: 1 } } }],
  ['error', { jsonrpc: '2.0', id: 1, error: { code: -1, message: 'm' } }],
  ['not an object', [1, 2]],
];

describe('decodeFrame', () => {
  for (const [label, value] of CORPUS) {
    it(`agrees with JSONRPCMessageSchema: ${label}`, () => {
      const decoded = decodeFrame(Buffer.from(JSON.stringify(value)), false);
      const parsed = JSONRPCMessageSchema.safeParse(value);
      assert.equal(decoded.ok, parsed.success);
      if (decoded.ok && parsed.success) assert.deepEqual(decoded.message, parsed.data);
    });
  }
});
