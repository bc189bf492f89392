// The metric module on its own: each hook moves exactly its series, label values stay in closed
// sets whatever is recorded, every server has a registry of its own, and prom-client's default
// process metrics carry the prefix. Read back through the text exposition a scraper receives.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import {
  createServerMetrics,
  eraOf,
  METRICS_PREFIX,
  TOOL_CALL_BUCKETS,
} from '../../../mcp-server/src/metrics/server-metrics.ts';
import { MAX_ERROR_OUTCOMES, OVERFLOW_OUTCOME } from '../../../mcp-server/src/metrics/tool-call-metrics.ts';
import { parseSamples, type Sample, sampleValue } from './helpers/prometheus-text.ts';

const n = (name: string) => `${METRICS_PREFIX}${name}`;

async function samplesOf(metrics: ReturnType<typeof createServerMetrics>): Promise<Sample[]> {
  return parseSamples(await metrics.registry.metrics());
}

describe('server metrics', () => {
  it('keeps each server in a registry of its own, never the global one', async () => {
    const before = (await globalRegistry.getMetricsAsJSON()).length;
    const a = createServerMetrics({ processMetrics: false });
    const b = createServerMetrics({ processMetrics: false });
    a.tool('read-file').ran(undefined, 0.001);
    const [sa, sb] = [await samplesOf(a), await samplesOf(b)];
    assert.equal(sampleValue(sa, n('tool_calls_total'), { tool: 'read-file', outcome: 'ok' }), 1);
    assert.equal(sampleValue(sb, n('tool_calls_total'), { tool: 'read-file', outcome: 'ok' }), 0);
    assert.equal((await globalRegistry.getMetricsAsJSON()).length, before);
  });

  it('moves a WebSocket connection from pending to its era, and out of the gauge once closed', async () => {
    const m = createServerMetrics({ processMetrics: false });
    const gauge = (era: string) => async () =>
      sampleValue(await samplesOf(m), n('connections'), { transport: 'websocket', era });
    const conn = m.connectionOpened('websocket');
    assert.equal(await gauge('pending')(), 1);
    conn.settle(eraOf('modern'));
    assert.equal(await gauge('pending')(), 0);
    assert.equal(await gauge('2026-07-28')(), 1);
    // A server/discover probe followed by initialize: the SDK builds a second, 2025-era server.
    conn.settle(eraOf('legacy'));
    assert.equal(await gauge('2026-07-28')(), 0);
    assert.equal(await gauge('2025-11-25')(), 1);
    conn.closed();
    conn.closed();
    conn.settle('2026-07-28');
    const s = await samplesOf(m);
    assert.equal(sampleValue(s, n('connections')), 0, 'closed twice and settled after close: nothing left');
    assert.equal(sampleValue(s, n('connections_opened_total'), { transport: 'websocket' }), 1);
  });

  it('counts HTTP sessions and requests by era', async () => {
    const m = createServerMetrics({ processMetrics: false });
    const session = m.connectionOpened('http', '2025-11-25');
    m.httpRequest('2025-11-25');
    m.httpRequest('2026-07-28');
    m.httpRequest('2026-07-28');
    let s = await samplesOf(m);
    assert.equal(sampleValue(s, n('connections'), { transport: 'http', era: '2025-11-25' }), 1);
    assert.equal(sampleValue(s, n('http_requests_total'), { era: '2026-07-28' }), 2);
    assert.equal(sampleValue(s, n('http_requests_total'), { era: '2025-11-25' }), 1);
    session.closed();
    s = await samplesOf(m);
    assert.equal(sampleValue(s, n('connections'), { transport: 'http' }), 0);
    assert.equal(sampleValue(s, n('connections_opened_total'), { transport: 'http' }), 1);
  });

  it('counts tool calls by outcome and times the ones that ran, in the documented buckets', async () => {
    const m = createServerMetrics({ processMetrics: false });
    const read = m.tool('read-file');
    assert.equal(m.tool('read-file'), read, 'resolved once, then shared');
    read.ran(undefined, 0.0003);
    read.ran(undefined, 0.002);
    read.ran('not_found', 0.00005);
    read.refused('insufficient_scope');
    read.refused('rate_limited');
    read.refused('rate_limited');
    const s = await samplesOf(m);
    const calls = (outcome: string) => sampleValue(s, n('tool_calls_total'), { tool: 'read-file', outcome });
    assert.deepEqual(['ok', 'not_found', 'insufficient_scope', 'rate_limited'].map(calls), [2, 1, 1, 2]);
    const bucket = (result: string, le: string) =>
      sampleValue(s, n('tool_call_duration_seconds_bucket'), { tool: 'read-file', result, le });
    assert.equal(bucket('ok', '0.0001'), 0);
    assert.equal(bucket('ok', '0.0005'), 1);
    assert.equal(bucket('ok', '0.0025'), 2);
    assert.equal(bucket('error', '0.0001'), 1);
    assert.equal(
      sampleValue(s, n('tool_call_duration_seconds_count'), { tool: 'read-file' }),
      3,
      'refusals are not timed',
    );
    const les = s
      .filter((x) => x.name === n('tool_call_duration_seconds_bucket') && x.labels.result === 'ok')
      .map((x) => x.labels.le);
    assert.deepEqual(les, [...TOOL_CALL_BUCKETS.map(String), '+Inf']);
  });

  it('shows a tool at 0 before its first call (rates and alerts see the series at once)', async () => {
    const m = createServerMetrics({ processMetrics: false });
    m.tool('list-files');
    const s = await samplesOf(m);
    const series = s.filter((x) => x.name === n('tool_calls_total') && x.labels.tool === 'list-files');
    assert.deepEqual(series.map((x) => [x.labels.outcome, x.value]).sort(), [
      ['insufficient_scope', 0],
      ['ok', 0],
      ['rate_limited', 0],
    ]);
  });

  it('bounds the outcomes of one tool whatever error codes it reports', async () => {
    const m = createServerMetrics({ processMetrics: false });
    const t = m.tool('list-files');
    for (let i = 0; i < 1000; i++) t.ran(`code_${i}`, 0.001);
    const s = await samplesOf(m);
    const outcomes = s.filter((x) => x.name === n('tool_calls_total')).map((x) => x.labels.outcome);
    assert.equal(outcomes.length, MAX_ERROR_OUTCOMES + 1 + 3, 'the cap, the overflow series, ok/scope/rate');
    assert.equal(sampleValue(s, n('tool_calls_total'), { outcome: OVERFLOW_OUTCOME }), 1000 - MAX_ERROR_OUTCOMES);
    assert.equal(sampleValue(s, n('tool_calls_total'), { outcome: 'code_0' }), 1);
  });

  it('counts refusals as their audit events, JWKS fetches, introspections, withdrawals and renewals', async () => {
    const m = createServerMetrics({ processMetrics: false });
    m.refused('auth.refused', 'token_expired', 'websocket');
    m.refused('auth.refused', 'token_expired', 'websocket');
    m.refused('access.denied', 'over_capacity', 'http');
    m.jwksFetched('load', true);
    m.jwksFetched('unknown_kid', false);
    m.introspected('active');
    m.introspected('inactive');
    m.introspected('error');
    m.introspected('error');
    m.withdrawn('revoked');
    m.renewal('ok');
    m.renewal('token_expired');
    let tracked = 7;
    m.trackRevocation(() => tracked);
    let s = await samplesOf(m);
    assert.equal(sampleValue(s, n('auth_refused_total'), { transport: 'websocket', reason: 'token_expired' }), 2);
    assert.equal(sampleValue(s, n('access_denied_total'), { transport: 'http', reason: 'over_capacity' }), 1);
    assert.equal(sampleValue(s, n('access_denied_total'), { transport: 'websocket' }), 0);
    assert.equal(sampleValue(s, n('jwks_fetches_total'), { reason: 'load', result: 'ok' }), 1);
    assert.equal(sampleValue(s, n('jwks_fetches_total'), { reason: 'unknown_kid', result: 'error' }), 1);
    assert.deepEqual(
      ['active', 'inactive', 'error'].map((result) => sampleValue(s, n('introspection_requests_total'), { result })),
      [1, 1, 2],
    );
    assert.equal(sampleValue(s, n('revocation_withdrawals_total'), { reason: 'revoked' }), 1);
    assert.equal(sampleValue(s, n('token_renewals_total'), { result: 'ok' }), 1);
    assert.equal(sampleValue(s, n('token_renewals_total'), { result: 'token_expired' }), 1);
    assert.equal(sampleValue(s, n('revocation_tracked_tokens')), 7);
    tracked = 3;
    s = await samplesOf(m);
    assert.equal(sampleValue(s, n('revocation_tracked_tokens')), 3, 'read at each scrape');
  });

  it("adds prom-client's default process metrics under the prefix", async () => {
    const m = createServerMetrics();
    const names = new Set((await samplesOf(m)).map((x) => x.name));
    for (const name of [
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.ok(names.has(n(name)), `${n(name)} is exposed`);
      assert.ok(!names.has(name), `${name} is not exposed unprefixed`);
    }
    const help = await m.registry.metrics();
    assert.match(help, new RegExp(`^# TYPE ${n('nodejs_gc_duration_seconds')} histogram$`, 'm'));
  });
});
