// list-files at scale against the real server in a child process: a 100k-entry directory paged
// end to end (every entry exactly once, with held walks and with resumes by name), and a burst of
// concurrent listings of it whose peak server RSS must stay far below what the old whole-directory
// walk used (4.3 GB and an out-of-memory abort). Figures are reported as diagnostics.
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { connect, initialize, isRefused, type Reply } from '../server/helpers/ws-client.ts';
import { type ServerChild, startServerChild } from './server-child-client.ts';

const ENTRIES = 100_000;
const BURST = 200;
const MiB = 1024 * 1024;

/** One socket, many requests in flight: replies dispatched by id, parsed once. */
class Rpc {
  readonly #ws: WebSocket;
  readonly #waiting = new Map<number, (r: Reply) => void>();
  #next = 1;
  constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Reply;
      this.#waiting.get(msg.id)?.(msg);
      this.#waiting.delete(msg.id);
    });
  }
  list(args: Record<string, unknown>): Promise<Reply> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#ws.send(
        JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'list-files', arguments: args } }),
      );
    });
  }
  close(): void {
    this.#ws.close();
  }
}

/** The forked server: the child of this process running server-child.ts. */
function childPid(): string {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server-child')) return pid;
    } catch {
      // a process that exited meanwhile
    }
  }
  throw new Error('server child not found');
}

/** Peak (VmHWM, since the last reset) and current RSS (VmRSS) of the server child, in bytes. */
function childMemory(pid: string): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) * 1024;
  return { peak: kb('VmHWM'), now: kb('VmRSS') };
}

describe(`list-files over ${ENTRIES} entries`, { timeout: 300_000 }, () => {
  let issuer: LocalIssuer;
  let base: string;
  let child: ServerChild;
  let rpc: Rpc;

  before(async () => {
    base = mkdtempSync(path.join(tmpdir(), 'sec-listing-'));
    mkdirSync(path.join(base, 'big'));
    for (let i = 0; i < ENTRIES; i++) closeSync(openSync(path.join(base, 'big', `f${i}`), 'w'));
    issuer = await startLocalIssuer();
    child = await startServerChild({
      TARGET_DIR: base,
      OAUTH_ISSUER: issuer.issuer,
      HEARTBEAT_INTERVAL_MS: '0',
      // Every call of the burst runs at once: the bound proven is list-files' own, per call.
      MAX_IN_FLIGHT_PER_CONNECTION: String(BURST),
      MAX_IN_FLIGHT_PER_CLIENT: String(BURST),
      RATE_LIMIT_BURST: '100000',
      RATE_LIMIT_CALLS_PER_SECOND: '100000',
    });
    rpc = await session('pager');
  });
  after(async () => {
    rpc.close();
    await child.stop();
    await issuer.close();
    rmSync(base, { recursive: true, force: true });
  });

  async function session(azp: string): Promise<Rpc> {
    const ws = await connect(child.wsUrl, { token: await issuer.sign({ azp }) });
    assert.ok(!isRefused(ws));
    await initialize(ws);
    return new Rpc(ws);
  }

  /** Pages the directory; with `resend`, asks each page twice and keeps the second (resumed by name). */
  async function pageAll(limit: number, resend: boolean) {
    const seen = new Map<string, number>();
    let cursor: string | undefined;
    let pages = 0;
    let slowest = 0;
    const t0 = performance.now();
    do {
      const args = { directory: 'big', limit, ...(cursor ? { cursor } : {}) };
      if (resend) await rpc.list(args);
      const p0 = performance.now();
      const reply = await rpc.list(args);
      slowest = Math.max(slowest, performance.now() - p0);
      assert.equal(reply.result?.isError, undefined, JSON.stringify(reply).slice(0, 300));
      for (const e of reply.result.structuredContent.entries) seen.set(e.path, (seen.get(e.path) ?? 0) + 1);
      cursor = reply.result.structuredContent.nextCursor;
      pages++;
    } while (cursor);
    const ms = Math.round(performance.now() - t0);
    const twice = [...seen.values()].filter((n) => n > 1).length;
    return { seen: seen.size, twice, pages, ms, slowest: Math.round(slowest) };
  }

  it('pages every entry exactly once, in O(page) per page', async (t) => {
    const first = performance.now();
    await rpc.list({ directory: 'big', limit: 1000 });
    const firstMs = Math.round(performance.now() - first);
    const r = await pageAll(1000, false);
    t.diagnostic(`limit 1000: first page ${firstMs} ms, ${r.pages} pages in ${r.ms} ms, slowest page ${r.slowest} ms`);
    assert.equal(r.twice, 0, 'no entry twice');
    assert.equal(r.seen, ENTRIES, 'no entry missing');
    const big = await pageAll(5000, false);
    t.diagnostic(`limit 5000: ${big.pages} pages in ${big.ms} ms, slowest page ${big.slowest} ms`);
    assert.equal(big.seen, ENTRIES);
    assert.equal(big.twice, 0);
  });

  it('pages exactly once when every page is re-sent (the second copy resumes by name)', async (t) => {
    const r = await pageAll(5000, true);
    t.diagnostic(`re-sent pages (resume by name): ${r.pages} pages in ${r.ms} ms, slowest ${r.slowest} ms`);
    assert.equal(r.seen, ENTRIES);
    assert.equal(r.twice, 0);
  });

  it(`keeps a burst of ${BURST} concurrent listings bounded in memory`, async (t) => {
    const pid = childPid();
    // Resets the peak (VmHWM) to the current RSS, so the peak read after is the burst's.
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const before = childMemory(pid);
    const clients = await Promise.all([0, 1, 2, 3].map((i) => session(`burst-${i}`)));
    const t0 = performance.now();
    const replies = await Promise.all(
      Array.from({ length: BURST }, (_, i) => clients[i % clients.length]!.list({ directory: 'big' })),
    );
    const ms = Math.round(performance.now() - t0);
    for (const c of clients) c.close();
    // Under a burst the time budget may end pages early: each answer is a page with a cursor to go on.
    const ok = replies.filter((r) => r.result?.isError === undefined && r.result?.structuredContent?.nextCursor).length;
    const listed = replies.reduce((n, r) => n + (r.result?.structuredContent?.entries.length ?? 0), 0);
    const afterBurst = childMemory(pid);
    const growth = Math.round((afterBurst.peak - before.now) / MiB);
    t.diagnostic(
      `burst: ${ok}/${BURST} pages (${listed} entries) in ${ms} ms; server RSS ${Math.round(before.now / MiB)} MiB before, ` +
        `peak ${Math.round(afterBurst.peak / MiB)} MiB (growth ${growth} MiB)`,
    );
    assert.equal(ok, BURST, 'every call of the burst answered with a page and a cursor');
    assert.ok(listed > 0);
    // Generous: proves "bounded by pages in flight", far from the old whole-directory 4.3 GB.
    assert.ok(growth < 768, `peak RSS grew ${growth} MiB`);
  });
});
