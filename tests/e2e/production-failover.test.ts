// Failover of the production topology (deploy/compose.production.yaml, its own project, not the
// shared test Keycloak): clients call tools without pause over WebSocket and over Streamable HTTP
// (both eras) through the TLS load balancer, and fetch tokens from Keycloak through it, while one
// MCP replica is killed (SIGKILL) and started again, another is stopped (SIGTERM, as a rolling
// update does) and started again, then one Keycloak node is stopped (SIGTERM) and started again. Required: no failed call (every call is read-file, read-only, so safe to repeat),
// no failed token request, Keycloak state (a rotated secret, a user session) intact on the other
// node, and the load balancer marking the dead replica out within its health-check period and then
// sending it nothing. Figures per event are printed as `# ` lines and written to
// test-results/production-failover.json.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../support/wait.ts';
import { adminSession, clientCredentialsStatus, refreshSession, rotateClientSecret } from './production-keycloak.ts';
import { type EventFigures, Load, totals } from './production-load.ts';
import { allInRotation, inRotation, outOfRotation, ProductionStack, type Service } from './production-stack.ts';

/** HAProxy checks every 1 s and marks a server down after 2 failures (deploy/loadbalancer/haproxy.cfg). */
const HEALTH_CHECK_PERIOD_MS = 2_000;
/** Allowance over that period for the stats poll and a loaded 2-core machine. */
const DETECTION_SLACK_MS = 3_000;
/** Successful steps every stream makes in each measured window. */
const PER_WINDOW = 15;
const resultsFile = fileURLToPath(new URL('../../test-results/production-failover.json', import.meta.url));

const events: EventFigures[] = [];
const timings: Record<string, number> = {};
const checks: Record<string, number | string | boolean> = {};
let stack: ProductionStack | undefined;
let load: Load | undefined;

function need(): ProductionStack {
  assert.ok(stack, 'the stack did not come up (see the first test)');
  return stack;
}

async function timed<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings[name] = Date.now() - t0;
  }
}

function report(): void {
  for (const [k, v] of Object.entries(timings)) console.log(`# production: ${k} ${(v / 1000).toFixed(1)} s`);
  for (const [k, v] of Object.entries(checks)) console.log(`# production: ${k} = ${v}`);
  for (const e of events) {
    const t = totals(e);
    const gaps = Object.entries(e.streams)
      .map(([n, f]) => `${n} ${f.longestGapMs}`)
      .join(', ');
    const reconnects = Object.values(e.streams).reduce((n, f) => n + f.reconnects, 0);
    console.log(
      `# failover: ${e.event} (${(e.durationMs / 1000).toFixed(1)} s): calls ${t.calls}, failed ${t.failed}, ` +
        `tokens ${t.tokens}, token failures ${t.tokenFailures}, reconnects ${reconnects}, longest gap ms: ${gaps}`,
    );
  }
  mkdirSync(path.dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify({ at: new Date().toISOString(), timings, checks, events }, null, 2)}\n`);
}

/** Waits until HAProxy's view of `server` satisfies `ok`; resolves to the ms it took. */
function lbUntil(server: Service, ok: (status: string) => boolean, timeoutMs: number): Promise<number> {
  return waitUntil(async () => ok((await need().lbServer(server)).status), timeoutMs, 100, `${server} in HAProxy`);
}

describe('production topology: failover through the load balancer', { timeout: 1_500_000 }, () => {
  after(async () => {
    await load?.stop();
    report();
    if (stack && events.some((e) => totals(e).failed + totals(e).tokenFailures > 0)) {
      for (const line of stack.lbTrouble()) console.log(`# lb: ${line}`);
    }
    stack?.destroy();
  });

  it('builds, comes up healthy, and Keycloak forms a two-node cluster', async () => {
    const s = await ProductionStack.create(`mcpprod${process.pid}`);
    stack = s;
    // The client library trusts the development CA like a system CA (what NODE_EXTRA_CA_CERTS does).
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), s.caPem]);
    await timed('build', () => s.compose(['build']));
    try {
      await timed('up (until every service is healthy)', async () => {
        s.compose(['up', '-d']);
        await s.waitHealthy(900_000);
      });
      await waitUntil(() => s.clusterViews('keycloak-2').includes(2), 120_000, 1000, 'a cluster view of 2 members');
      await waitUntil(async () => allInRotation(await s.lbServers()), 60_000, 200, 'every server UP');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${s.diagnostics()}`);
    }
    checks['cluster views logged by keycloak-2'] = s.clusterViews('keycloak-2').join(' ');
  });

  it('loses no call and no token request through a replica crash, a replica stop and a Keycloak node stop', async () => {
    const s = need();
    const started = Date.now();
    load = await Load.start({ mcpUrl: s.mcpUrl, issuer: s.issuer, clientSecret: s.secret('oauth-client-secret') });
    let t = Date.now();
    await load.soak(t, PER_WINDOW, 120_000);
    events.push(load.figures('steady', t, Date.now()));

    // 1. The replica holding the most connections dies.
    const replicas = (await s.lbServers()).filter((x) => x.backend === 'mcp');
    const victim = replicas.reduce((a, b) => (b.current > a.current ? b : a)).server as Service;
    checks['killed replica (its open sessions)'] = `${victim} (${replicas.find((r) => r.server === victim)?.current})`;
    t = Date.now();
    await s.halt(victim, 'kill');
    const detectMs = await lbUntil(victim, outOfRotation, 60_000);
    const sentAtDown = (await s.lbServer(victim)).total;
    checks['replica marked out after kill, ms'] = detectMs;
    await load.soak(Date.now(), PER_WINDOW, 120_000);
    checks['sessions sent to the dead replica after it was marked out'] = (await s.lbServer(victim)).total - sentAtDown;
    events.push(load.figures(`${victim} killed`, t, Date.now()));

    // 2. It comes back.
    t = Date.now();
    await s.start(victim);
    checks['replica back in rotation after start, ms'] = await lbUntil(victim, inRotation, 120_000);
    await load.soak(Date.now(), PER_WINDOW, 120_000);
    events.push(load.figures(`${victim} restarted`, t, Date.now()));

    // 3. Another replica is stopped the way a rolling update does it (SIGTERM), and started again.
    const others = (await s.lbServers()).filter((x) => x.backend === 'mcp' && x.server !== victim);
    const drained = others.reduce((a, b) => (b.current > a.current ? b : a)).server as Service;
    t = Date.now();
    await s.halt(drained, 'stop');
    checks[`${drained} stop (SIGTERM until exit), ms`] = Date.now() - t;
    await lbUntil(drained, outOfRotation, 60_000);
    await load.soak(Date.now(), PER_WINDOW, 120_000);
    events.push(load.figures(`${drained} stopped (SIGTERM)`, t, Date.now()));
    t = Date.now();
    await s.start(drained);
    await lbUntil(drained, inRotation, 120_000);
    await load.soak(Date.now(), PER_WINDOW, 120_000);
    events.push(load.figures(`${drained} restarted`, t, Date.now()));

    // 4. Keycloak state made before the loss: a rotated secret and an admin's user session.
    const kc = s.keycloakUrl;
    const admin = await adminSession(kc, s.secret('keycloak-admin-password'));
    const oldSecret = s.secret('mcp-lister-secret');
    const newSecret = await rotateClientSecret(kc, admin, 'mcp-lister');
    t = Date.now();
    await s.halt('keycloak-1', 'stop');
    checks['keycloak-1 stop (SIGTERM until exit), ms'] = Date.now() - t;
    await lbUntil('keycloak-1', outOfRotation, 60_000);
    await load.soak(Date.now(), PER_WINDOW, 120_000);
    const afterLoss = {
      rotated: await clientCredentialsStatus(kc, 'mcp-lister', newSecret),
      old: await clientCredentialsStatus(kc, 'mcp-lister', oldSecret),
      session: await refreshSession(kc, admin),
    };
    checks['with keycloak-1 down: rotated secret / old secret / session refresh (HTTP)'] =
      `${afterLoss.rotated} / ${afterLoss.old} / ${afterLoss.session}`;
    events.push(load.figures('keycloak-1 stopped', t, Date.now()));

    // 5. It comes back and rejoins the cluster.
    const viewsBefore = s.clusterViews('keycloak-2').length;
    t = Date.now();
    await s.start('keycloak-1');
    checks['keycloak-1 back in rotation after start, ms'] = await lbUntil('keycloak-1', inRotation, 600_000);
    await waitUntil(() => s.clusterViews('keycloak-2').slice(viewsBefore).includes(2), 120_000, 1000, 'rejoined');
    await load.soak(Date.now(), PER_WINDOW, 120_000);
    events.push(load.figures('keycloak-1 restarted', t, Date.now()));
    await load.stop();
    timings['failover scenario'] = Date.now() - started;
    // Requests HAProxy could only send to the unchecked last resort (both Keycloak nodes marked down).
    checks['requests to the Keycloak last-resort backups'] = (await s.lbServers())
      .filter((x) => x.backup)
      .reduce((n, x) => n + x.total, 0);

    for (const e of events) {
      const sum = totals(e);
      assert.equal(sum.failed, 0, `${e.event}: failed calls: ${JSON.stringify(e.streams)}`);
      assert.equal(sum.tokenFailures, 0, `${e.event}: failed token requests: ${JSON.stringify(e.streams.tokens)}`);
    }
    assert.ok(
      detectMs <= HEALTH_CHECK_PERIOD_MS + DETECTION_SLACK_MS,
      `the dead replica was marked out after ${detectMs} ms`,
    );
    assert.equal(checks['sessions sent to the dead replica after it was marked out'], 0);
    const killed = events[1];
    assert.ok(
      killed && Object.values(killed.streams).some((f) => f.reconnects > 0),
      'no client was connected to the killed replica (the kill proved nothing)',
    );
    assert.deepEqual(afterLoss, { rotated: 200, old: 401, session: 200 });
  });
});
