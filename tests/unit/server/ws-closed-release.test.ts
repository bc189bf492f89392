// A closed WebSocket connection lets go of its session. A closed WebSocket and its socket outlive
// young collections until a full one (in a bare ws server too), so whatever a closed socket still
// reaches is copied by every young collection until then: the transport takes its listeners off
// at close. Checked by holding the closed WebSocket as V8 does and collecting.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket } from 'ws';
import { WsServerTransport } from '../../../mcp-server/src/transport/ws-server-transport.ts';
import { startWsPairs, type WsPairs } from './helpers/ws-pairs.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const authInfo = { token: 't', clientId: 'c', scopes: [] };
let pairs: WsPairs;

before(async () => {
  pairs = await startWsPairs();
});
after(() => pairs.close());

/** Serves one request on a transport wired as the server wires it, closes, and answers the closed server-side socket and a weak reference to the transport. */
async function servedAndClosed(): Promise<{ serverWs: WebSocket; transport: WeakRef<WsServerTransport> }> {
  const { client, serverWs } = await pairs.open();
  const transport = new WsServerTransport(serverWs, { authInfo });
  const closed = new Promise<void>((resolve) => {
    const onclose = () => resolve();
    transport.onclose = onclose;
  });
  const onmessage = (m: { id?: unknown }) => void transport.send({ jsonrpc: '2.0', id: m.id as number, result: {} });
  transport.onmessage = onmessage as WsServerTransport['onmessage'];
  await transport.start();
  const answered = new Promise((r) => client.once('message', r));
  client.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }));
  await answered;
  client.close();
  await closed;
  return { serverWs, transport: new WeakRef(transport) };
}

test('a closed transport is collectable while its WebSocket is still held', { timeout: 10_000 }, async () => {
  const { serverWs, transport } = await servedAndClosed();
  assert.equal(serverWs.listenerCount('message'), 0, 'no frame listener left on the closed socket');
  for (let i = 0; i < 5 && transport.deref() !== undefined; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  assert.equal(transport.deref(), undefined, 'the closed socket still reaches its transport');
  assert.equal(serverWs.readyState, WebSocket.CLOSED);
});
