// ResilientClient re-sends only what is safe: read-only/idempotent tools at most callMaxAttempts
// times through a relay that kills every connection carrying the call; a tool without those
// annotations is never re-sent and fails with outcome_unknown; a timeout is not re-sent. In both
// eras: a 2025-11-25 session, and a 2026-07-28 connection (nothing to re-initialize).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import { ClientError, isClientError, ResilientClient, StaticTokenSource } from 'mcp-client';
import { interruptionOf } from '../../../mcp-client/src/call-failure.ts';
import { FakeMcpServer } from './fake-mcp-server.ts';
import { CallDroppingRelay, type DropRule } from './relays.ts';

const reconnect = { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 100 };
const isCall: DropRule = (m) => m.method === 'tools/call';

for (const [era, revision] of [
  ['legacy', '2025-11-25'],
  ['dual', '2026-07-28'],
] as const)
  describe(`ResilientClient re-sends (MCP ${revision})`, () => {
    let server: FakeMcpServer;
    const relays: CallDroppingRelay[] = [];
    before(async () => {
      server = await FakeMcpServer.start({ era, unsafeTool: true, callDelayMs: 50 });
    });
    after(async () => {
      await Promise.all(relays.map((r) => r.stop()));
      await server.stop();
    });

    async function through(rule: DropRule): Promise<{ relay: CallDroppingRelay; client: ResilientClient }> {
      const relay = await CallDroppingRelay.start(server.url, rule);
      relays.push(relay);
      const client = await ResilientClient.connect({
        url: relay.url,
        tokenSource: new StaticTokenSource('ok'),
        reconnect,
        pingIntervalMs: 0,
      });
      assert.equal(client.protocolVersion, revision);
      return { relay, client };
    }

    it('a read-only call whose every connection drops fails after exactly CALL_MAX_ATTEMPTS (3) sends', async () => {
      const { relay, client } = await through(isCall);
      const started = performance.now();
      try {
        await assert.rejects(client.callTool('read-file', { filePath: 'a.txt' }), (err: unknown) => {
          assert.ok(isClientError(err, 'resend_exhausted'), String(err));
          assert.equal(err.attempts, 3);
          assert.match(err.message, /read-file was sent 3 times and each time the connection dropped/);
          return true;
        });
        const ms = Math.round(performance.now() - started);
        console.log(`# re-sends: ${relay.dropped} sends of one read-only call through the dropping relay, ${ms} ms`);
        assert.equal(relay.dropped, 3, 'sent exactly 3 times');
        // Bounded: two backoffs under 100 ms and three reconnects, far from the old 30 s of re-sends.
        assert.ok(ms < 5_000, `gave up after ${ms} ms`);
      } finally {
        await client.close();
      }
    });

    it('honours callMaxAttempts and completes once a connection survives', async () => {
      const { relay, client } = await through((m, seen) => isCall(m, seen) && seen < 2);
      try {
        const r = await client.callTool('read-file', { filePath: 'b.txt' });
        assert.deepEqual(r.content, [{ type: 'text', text: 'contents of b.txt' }]);
        assert.equal(relay.dropped, 2);
      } finally {
        await client.close();
      }
      const one = await through(isCall);
      const single = await ResilientClient.connect({
        url: one.relay.url,
        tokenSource: new StaticTokenSource('ok'),
        reconnect,
        callMaxAttempts: 1,
        pingIntervalMs: 0,
      });
      try {
        await assert.rejects(single.callTool('list-files', {}), (e: unknown) => isClientError(e, 'resend_exhausted'));
        assert.equal(one.relay.dropped, 1);
      } finally {
        await single.close();
        await one.client.close();
      }
      await assert.rejects(
        ResilientClient.connect({ url: server.url, tokenSource: new StaticTokenSource('ok'), callMaxAttempts: 0 }),
        TypeError,
      );
    });

    for (const listed of [true, false]) {
      it(`never re-sends a tool without readOnly/idempotent hints (annotations ${listed ? 'listed before' : 'learned after the drop'})`, async () => {
        const { relay, client } = await through(isCall);
        try {
          if (listed) {
            const tools = await client.listTools();
            assert.equal(tools.find((t) => t.name === 'append-line')?.annotations, undefined);
          }
          await assert.rejects(client.callTool('append-line', { line: 'x' }), (err: unknown) => {
            assert.ok(isClientError(err, 'outcome_unknown'), String(err));
            assert.equal(err.attempts, 1);
            assert.match(err.message, /append-line was in flight: the call may or may not have run on the server/);
            return true;
          });
          assert.equal(relay.dropped, 1, 'sent once, never again');
          // The connection came back: the client is usable after the refusal to re-send.
          assert.ok((await client.listTools()).length >= 3);
        } finally {
          await client.close();
        }
      });
    }

    it('a call cut while the credentials stop working fails with the refusal, not outcome_unknown', async () => {
      const relay = await CallDroppingRelay.start(server.url, isCall);
      relays.push(relay);
      let refuse = false;
      const tokenSource = {
        refreshable: false,
        clientId: 'mcp-client',
        getToken: async () => {
          if (refuse) throw new ClientError('auth_refused', 'Keycloak refused the client credentials (invalid_client)');
          return 'ok';
        },
      };
      const client = await ResilientClient.connect({ url: relay.url, tokenSource, reconnect, pingIntervalMs: 0 });
      try {
        refuse = true; // e.g. the secret was rotated: the reconnect cannot get a token
        await assert.rejects(client.callTool('append-line', { line: 'x' }), (err: unknown) => {
          assert.ok(isClientError(err, 'auth_refused'), String(err));
          return true;
        });
        assert.equal(relay.dropped, 1, 'sent once');
      } finally {
        await client.close();
      }
    });

    it('fails a call without an answer in time with timeout, and does not re-send it', async () => {
      const slow = await FakeMcpServer.start({ era, callDelayMs: 2_000 });
      const client = await ResilientClient.connect({
        url: slow.url,
        tokenSource: new StaticTokenSource('ok'),
        requestTimeoutMs: 200,
        pingIntervalMs: 0,
      });
      try {
        await assert.rejects(client.callTool('read-file', { filePath: 'a.txt' }), (err: unknown) => {
          assert.ok(isClientError(err, 'timeout'), String(err));
          assert.match(err.message, /read-file got no answer within 200 ms .*may or may not have run/);
          return true;
        });
        assert.deepEqual(slow.calls, ['read-file']);
      } finally {
        await client.close();
        await slow.stop();
      }
    });
  });

describe('interruptionOf', () => {
  it('tells a request that never left from one that may have run', () => {
    assert.equal(interruptionOf(new ClientError('connect_failed', 'not open', { unsent: true })), 'unsent');
    assert.equal(interruptionOf(new ClientError('connect_failed', 'send failed')), 'in_doubt');
    assert.equal(interruptionOf(new Error('Not connected')), 'unsent');
    assert.equal(interruptionOf(new SdkError(SdkErrorCode.NotConnected, 'Not connected')), 'unsent');
    assert.equal(interruptionOf(new SdkError(SdkErrorCode.ConnectionClosed, 'Connection closed')), 'in_doubt');
    assert.equal(interruptionOf(new SdkError(SdkErrorCode.RequestTimeout, 'Request timed out')), undefined);
    assert.equal(interruptionOf(new ClientError('tool_error', 'x')), undefined);
    assert.equal(interruptionOf(new Error('other')), undefined);
  });
});
