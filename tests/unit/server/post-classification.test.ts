// The remembered classification of 2026-07-28 POSTs (http/modern-route.ts) gives exactly what the
// SDK's classifyInboundRequest gives, for every request of a corpus sent twice (the first teaches
// the memo, the second may be answered from it): valid and invalid envelopes, headers that agree,
// disagree or are missing, other shapes, notifications, responses and batches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import { classificationStats, createRequestClassifier } from '../../../mcp-server/src/mcp/request-classifier.ts';

const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};
const CALL = { name: 'read-file', arguments: { filePath: 'a.txt' } };
const good = { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'read-file' };

interface Case {
  readonly label: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  /** Whether the second classification may come from the memo. */
  readonly remembered: boolean;
}

const request = (meta: unknown, extra: Record<string, unknown> = {}, method = 'tools/call') => ({
  jsonrpc: '2.0',
  id: 1,
  method,
  params: { ...CALL, _meta: meta },
  ...extra,
});

const CASES: readonly Case[] = [
  { label: 'valid call', headers: good, body: request(ENVELOPE), remembered: true },
  { label: 'string id', headers: good, body: { ...request(ENVELOPE), id: 'a' }, remembered: true },
  { label: 'no headers', headers: {}, body: request(ENVELOPE), remembered: true },
  {
    label: 'header version disagrees',
    headers: { ...good, 'mcp-protocol-version': '2025-11-25' },
    body: request(ENVELOPE),
    remembered: false,
  },
  {
    label: 'header method disagrees',
    headers: { ...good, 'mcp-method': 'tools/list' },
    body: request(ENVELOPE),
    remembered: false,
  },
  {
    label: 'headers with spaces',
    headers: { ...good, 'mcp-method': ' tools/call ' },
    body: request(ENVELOPE),
    remembered: true,
  },
  {
    label: 'tools/list',
    headers: { ...good, 'mcp-method': 'tools/list' },
    body: { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: ENVELOPE } },
    remembered: true,
  },
  {
    label: 'envelope reordered',
    headers: good,
    body: request(Object.fromEntries(Object.entries(ENVELOPE).reverse())),
    remembered: true,
  },
  {
    label: 'invalid capabilities',
    headers: good,
    body: request({ ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': 5 }),
    remembered: false,
  },
  {
    label: 'invalid log level',
    headers: good,
    body: request({ ...ENVELOPE, 'io.modelcontextprotocol/logLevel': 'loud' }),
    remembered: false,
  },
  {
    label: 'a 2025 claim',
    headers: {},
    body: request({ ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' }),
    remembered: true,
  },
  {
    label: 'an unknown future claim',
    headers: {},
    body: request({ ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }),
    remembered: true,
  },
  { label: 'progress token too', headers: good, body: request({ ...ENVELOPE, progressToken: 'p' }), remembered: false },
  { label: 'no envelope', headers: good, body: request(undefined), remembered: false },
  { label: 'extra top-level member', headers: good, body: request(ENVELOPE, { extra: 1 }), remembered: false },
  { label: 'fractional id', headers: good, body: { ...request(ENVELOPE), id: 1.5 }, remembered: false },
  {
    label: 'initialize with an envelope',
    headers: { 'mcp-protocol-version': MODERN },
    body: request(ENVELOPE, {}, 'initialize'),
    remembered: false,
  },
  {
    label: 'notification',
    headers: good,
    body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: ENVELOPE } },
    remembered: false,
  },
  { label: 'response', headers: {}, body: { jsonrpc: '2.0', id: 1, result: {} }, remembered: false },
  { label: 'batch', headers: {}, body: [request(ENVELOPE)], remembered: false },
  {
    label: '2025 request',
    headers: {},
    body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: CALL },
    remembered: false,
  },
];

function sdk(c: Case) {
  const h = c.headers;
  return classifyInboundRequest({
    httpMethod: 'POST',
    protocolVersionHeader: h['mcp-protocol-version'],
    mcpMethodHeader: h['mcp-method'],
    mcpNameHeader: h['mcp-name'],
    body: c.body,
  });
}

/** Outcomes compared as data (the SDK builds a fresh error object per refusal). */
const plain = (v: unknown) =>
  JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Error ? { ...x, message: x.message } : x)));

describe('remembered classification of 2026-07-28 POSTs', () => {
  it('teaches itself from the SDK, then answers as the SDK for every case', () => {
    const classify = createRequestClassifier();
    // The valid envelope is taught once, before the cases: every case runs against a warm memo.
    classify(good, request(ENVELOPE));
    for (const c of CASES) {
      for (let round = 0; round < 2; round++) {
        const before = classificationStats().remembered;
        const ours = classify(c.headers, c.body);
        const fromMemo = classificationStats().remembered > before;
        assert.deepEqual(plain(ours), plain(sdk(c)), `${c.label} (round ${round + 1})`);
        if (!c.remembered) assert.equal(fromMemo, false, `${c.label} was answered from the memo`);
        else if (round === 1) assert.equal(fromMemo, true, `${c.label} was not answered from the memo`);
      }
    }
  });
});
