/**
 * "What changed and what it gained": each change of the WebSocket hot path with its A/B figures,
 * measured with bench/ab.ts (the commit before against the commit, interleaved rounds, medians).
 * Recorded here because the figures compare two versions of the server, which one run of
 * `npm run bench` cannot do; BENCHMARKS.md renders them as they are.
 */

/** One row of a change's A/B: the figure before and after. */
export interface AbFigure {
  /** Row, e.g. `read-file 1 KiB, 32 in flight`. */
  readonly row: string;
  /** What is compared, with its unit, e.g. `server CPU µs/call`. */
  readonly figure: string;
  readonly before: number;
  readonly after: number;
}

/** One change. */
export interface Change {
  readonly change: string;
  readonly commit: string;
  /** How it was measured: rounds, window, machine load. */
  readonly method: string;
  readonly figures: readonly AbFigure[];
}

export const CHANGES: readonly Change[] = [
  {
    change:
      'read-file: open-file cache (descriptor held up to 1 s, every hit re-proved inline by /proc/self/fd and fstat): ' +
      'no realpath or open, so one threadpool trip per read instead of three',
    commit: '68ba01b',
    method:
      'server CPU per call: bench/ab.ts, two server processes, 5 interleaved rounds of 0.8 s, load average 12; ' +
      'process CPU per call: bench/ab-cpu.ts, client and server in one process, 6 alternating runs of 6,000 calls, load average ~20',
    figures: [
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call', before: 148.6, after: 121.3 },
      { row: 'read-file 1 KiB, 1 in flight', figure: 'server CPU µs/call', before: 363.2, after: 270.0 },
      { row: 'read-file 1 KiB, 1 in flight', figure: 'p50 ms', before: 0.393, after: 0.319 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'process CPU µs/call (median)', before: 340.7, after: 316.2 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'process CPU µs/call (least)', before: 299.4, after: 265.4 },
    ],
  },
  {
    change:
      'list-files: a directory of at most 4096 bytes is read whole with one readdir of its held descriptor ' +
      '(opendir, a promise per name and closedir were three trips and a dozen promises)',
    commit: 'ee3cf88',
    method: 'bench/ab-cpu.ts, client and server in one process, 6 alternating runs of 3,000 calls, load average ~20',
    figures: [
      {
        row: 'list-files 10 entries, 32 in flight',
        figure: 'process CPU µs/call (median)',
        before: 969.6,
        after: 839.9,
      },
      {
        row: 'list-files 10 entries, 32 in flight',
        figure: 'process CPU µs/call (least)',
        before: 852.5,
        after: 749.7,
      },
    ],
  },
  {
    change:
      'read-file: a file of at most 64 KiB read whole through its cache entry within the last second is read again ' +
      'inline from the page cache (as nginx reads files) instead of a threadpool trip',
    commit: '6725f10',
    method:
      'bench/ab.ts, two server processes, 6 interleaved rounds of 0.7 s, load average 16; bench/ab-cpu.ts, 6 alternating ' +
      'runs of 6,000 calls',
    figures: [
      { row: 'read-file 1 KiB, 1 in flight', figure: 'p50 ms', before: 0.207, after: 0.097 },
      { row: 'read-file 1 KiB, 1 in flight', figure: 'calls/s', before: 1871, after: 6951 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (median)', before: 100.9, after: 79.5 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (least)', before: 60.5, after: 44.6 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'calls/s', before: 9241, after: 11252 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'process CPU µs/call (median)', before: 316.8, after: 280.9 },
    ],
  },
  {
    change:
      'list-files: in a small directory whose entries were all lstat-ed on the threadpool within the last second ' +
      '(same names: same mtime and ctime), each entry is lstat-ed inline, from the dentry and inode caches',
    commit: '5c78395',
    method:
      'bench/ab.ts, two server processes, 6 interleaved rounds of 0.7 s, load average 19; bench/ab-cpu.ts, 6 alternating ' +
      'runs of 3,000 calls',
    figures: [
      {
        row: 'list-files 10 entries, 32 in flight',
        figure: 'server CPU µs/call (median)',
        before: 359.9,
        after: 255.0,
      },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (least)', before: 254.4, after: 177.1 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s', before: 2836, after: 3131 },
      {
        row: 'list-files 10 entries, 32 in flight',
        figure: 'process CPU µs/call (median)',
        before: 604.2,
        after: 549.2,
      },
      {
        row: 'list-files 10 entries, 32 in flight',
        figure: 'process CPU µs/call (least)',
        before: 575.5,
        after: 497.0,
      },
    ],
  },
  {
    change:
      'tools/call served directly (mcp/direct-tool-calls.ts) once the SDK has served a call of the same shape on the ' +
      'instance (era, exact envelope): no wire-schema parse of the request and of the result (file contents included), no ' +
      'per-call context, no encode copies; same scope check, rate limit, audit line and bytes (differential test)',
    commit: '67640f8',
    method: 'bench/ab.ts, two server processes, 3 interleaved rounds of 1 s, while CI ran on the machine (load ~2)',
    figures: [
      { row: 'read-file 1 KiB, 32 in flight', figure: 'calls/s', before: 14801, after: 38082 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (least)', before: 43.4, after: 17.7 },
      { row: 'read-file 1 KiB, 1 in flight', figure: 'p50 ms', before: 0.108, after: 0.06 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (least)', before: 188.9, after: 134.8 },
    ],
  },
  {
    change:
      'log lines censored by a pino formatter (token and authorization at the top level, one level down and in ' +
      "req.headers) instead of pino's wildcard redact, which ran on every key of every line",
    commit: 'a81ad54',
    method: 'bench/ab.ts, 5 interleaved rounds of 1 s, quiet machine',
    figures: [
      { row: 'read-file 1 KiB, 32 in flight', figure: 'calls/s', before: 40403, after: 47088 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (median)', before: 25.1, after: 21.2 },
    ],
  },
  {
    change:
      'list-files: the listed directory held by the open-file cache (same per-hit /proc and ctime proof as files), a ' +
      'warm small directory read inline, dates from mtimeMs: no threadpool trip for a warm listing, names read every call',
    commit: '8cd304f',
    method: 'bench/ab.ts, 5 interleaved rounds of 1 s, quiet machine',
    figures: [
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s', before: 8309, after: 15095 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (median)', before: 142.1, after: 67.2 },
    ],
  },
  {
    change:
      "Streamable HTTP 2026-07-28: the SDK's classification of a POST remembered per envelope (corpus test against " +
      'classifyInboundRequest), and no URL parse for /mcp',
    commit: 'c56bb84',
    method: 'bench/http-ab.ts --base, 5 interleaved rounds of 1 s, quiet machine',
    figures: [
      { row: 'read-file 1 KiB, HTTP 2026-07-28, 32 in flight', figure: 'calls/s', before: 5998, after: 8948 },
      { row: 'read-file 1 KiB, HTTP 2026-07-28, 32 in flight', figure: 'server CPU µs/call', before: 177, after: 119 },
    ],
  },
  {
    change:
      'one audit logger per principal, shared by its WebSocket connections and HTTP requests (was a pino child per ' +
      'connection); the direct path shares its tool table',
    commit: '89a398b',
    method: 'heap snapshots of the server before and after 1,000 initialized idle connections, after a GC',
    figures: [{ row: '1,000 idle connections', figure: 'heap KiB/connection', before: 31.07, after: 30.2 }],
  },
  {
    change:
      'list-files: modification times formatted once per value (V8 formats toISOString through printf, a tenth of a ' +
      'listing in `perf`)',
    commit: '4518b22',
    method: 'bench/ab.ts, 5 interleaved rounds of 1 s, quiet machine',
    figures: [
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s', before: 18752, after: 21485 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (median)', before: 54.9, after: 47.0 },
    ],
  },
  {
    change:
      "list-files: a small warm directory listed in one page is read and lstat'ed without an await, and the listed " +
      "directory's identity and fstat come from its open-file cache lease (no bigint fstat per listing)",
    commit: 'f8269b6',
    method: 'bench/ab.ts, 5 interleaved rounds of 1 s, quiet machine',
    figures: [
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s', before: 19803, after: 22473 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (median)', before: 51.2, after: 44.6 },
    ],
  },
  {
    change:
      'list-files: the names of a small directory whose names last changed 3 s or more ago remembered by its ' +
      'dev:ino:size:nlink:mtime:ctime (fstat per listing): no readdir while they stay the same (tools/settled-names.ts)',
    commit: '08f76c6',
    method: 'bench/ab.ts, 5 interleaved rounds of 1 s, quiet machine',
    figures: [
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s', before: 21571, after: 26302 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (median)', before: 46.2, after: 38.0 },
    ],
  },
  {
    change:
      "list-files: a listing serialised once (its text block is its structured content's JSON, spliced into the frame " +
      'with the escaped text kept beside it; an unchanged listing reuses both), first with WeakMaps to carry the parts',
    commit: '265778b',
    method: 'bench/ab.ts, 7 interleaved rounds of 1 s, quiet machine',
    figures: [
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s', before: 27553, after: 30103 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (median)', before: 36.0, after: 33.1 },
    ],
  },
  {
    change:
      "list-files: a settled directory listed again holds an O_PATH descriptor per entry, so each entry's lstat " +
      'through /proc becomes an fstat of the same inode (at most 512 descriptors, closed after 2 s unused)',
    commit: '7d4e0cb',
    method: 'bench/ab.ts, 7 interleaved rounds of 1 s, quiet machine',
    figures: [
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s', before: 28243, after: 39078 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (median)', before: 36.8, after: 25.6 },
    ],
  },
  {
    change:
      'encoded parts carried on the result under a symbol key and the frame handed to the transport as an argument ' +
      "(WeakMaps' churn cost more in GC than they saved); read-file's metadata block serialised once",
    commit: '190489e',
    method: 'bench/ab.ts, 7 interleaved rounds of 1 s, quiet machine',
    figures: [
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s', before: 41541, after: 45604 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (median)', before: 24.0, after: 22.2 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (median)', before: 15.7, after: 15.3 },
    ],
  },
  {
    change:
      'a 2026-07-28 WebSocket connection is served by the shared dispatch (one McpServer for every client, the one ' +
      'HTTP already used) until it sends something only a server of its own answers; then the SDK entry is made and ' +
      "brought to the connection's phase (mcp/connection-entry.ts). One renewer per server instead of one per connection",
    commit: 'dada527, 5d44ba1, 8b945c2',
    method:
      'heap: snapshot diff of the server before and after 2,000 idle connections opened with server/discover, after a ' +
      'GC (the commit before the change, 0abea76, against this one); calls: bench/ab.ts --modern, 9 interleaved rounds ' +
      'of 1 s, quiet machine',
    figures: [
      { row: '2026-07-28 connection, idle', figure: 'server heap KiB per connection', before: 18.9, after: 7.0 },
      { row: '2025-11-25 connection, idle', figure: 'server heap KiB per connection', before: 18.4, after: 18.3 },
      { row: 'read-file 1 KiB, 32 in flight, 2026-07-28', figure: 'calls/s', before: 48798, after: 47846 },
      {
        row: 'read-file 1 KiB, 32 in flight, 2026-07-28',
        figure: 'server CPU µs/call (median)',
        before: 20.7,
        after: 21.3,
      },
      { row: 'list-files 10 entries, 32 in flight, 2026-07-28', figure: 'calls/s', before: 35481, after: 35413 },
    ],
  },
  {
    change:
      "a 2025-era WebSocket connection's `initialize` (of a version the SDK lists) is answered by that version's " +
      'shared McpServer (one per version, bound by an initialize of its own), and its tools/call, tools/list and ping ' +
      'go there under its own token and logger; anything else gives it a server of its own, primed with its ' +
      'initialize (mcp/legacy-dispatches.ts, mcp/connection-entry.ts)',
    commit: '823a77e',
    method:
      'heap: 10,000 idle connections opened with initialize, process.memoryUsage() after a GC before and with all ' +
      'open (97ce830 against 823a77e, default Node flags); calls: bench/ab.ts (2025-11-25), 9 interleaved rounds of ' +
      '1 s (list-files: 15)',
    figures: [
      { row: '2025-11-25 connection, idle', figure: 'server heap KiB per connection', before: 18.4, after: 7.6 },
      {
        row: '2025-11-25 connection, idle',
        figure: 'server V8 heap held KiB per connection',
        before: 32.6,
        after: 20.6,
      },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'calls/s', before: 37023, after: 36923 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s', before: 29081, after: 28788 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (median)', before: 34.8, after: 35.7 },
    ],
  },
  {
    change:
      "the server image runs Node with --max-semi-space-size=16 (NODE_OPTIONS): Node's default young generation grows " +
      'to about 130 MiB during a burst of new connections and stays resident; the bench runs the server with the ' +
      "image's flags",
    commit: '9992c28',
    method:
      'RSS: 19,000 idle connections, VmRSS after a GC before and with all open, default flags against the flag, same ' +
      'commit; calls: bench/ab.ts --b-flags, 15 interleaved rounds of 1 s',
    figures: [
      { row: '2025-11-25, 19,000 connections', figure: 'server RSS KiB per connection', before: 15.6, after: 11.0 },
      { row: '2026-07-28, 19,000 connections', figure: 'server RSS KiB per connection', before: 15.7, after: 11.1 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'calls/s', before: 37248, after: 37629 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (median)', before: 27.1, after: 27.1 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s', before: 25824, after: 26504 },
    ],
  },
  {
    change:
      'admission: a token whose verdict the verifier remembers is checked at once (exp, required scopes, the ' +
      'revocation screen) instead of through the authentication timer and four awaited layers; Host verdicts ' +
      "remembered for the first 16 distinct values; a request target without '?' is not parsed for a token in the query",
    commit: '8f06b09',
    method:
      'bench/http-ab.ts, 9 interleaved repetitions with rotated rows, run both ways round (this checkout against ' +
      'the one before, then the one before against this): medians of the two runs',
    figures: [
      {
        row: 'read-file 1 KiB, HTTP 2026-07-28, 32 in flight',
        figure: 'server CPU µs/call (run 1)',
        before: 184,
        after: 145,
      },
      {
        row: 'read-file 1 KiB, HTTP 2026-07-28, 32 in flight',
        figure: 'server CPU µs/call (run 2)',
        before: 208,
        after: 171,
      },
      { row: 'read-file 1 KiB, HTTP 2026-07-28, 32 in flight', figure: 'calls/s (run 1)', before: 5559, after: 7084 },
      { row: 'read-file 1 KiB, HTTP 2026-07-28, 32 in flight', figure: 'calls/s (run 2)', before: 4925, after: 5889 },
      {
        row: 'read-file 1 KiB, HTTP 2025-11-25, 32 in flight',
        figure: 'server CPU µs/call (run 1)',
        before: 431,
        after: 391,
      },
      {
        row: 'read-file 1 KiB, HTTP 2025-11-25, 32 in flight',
        figure: 'server CPU µs/call (run 2)',
        before: 489,
        after: 460,
      },
    ],
  },
  {
    change:
      'open-file cache: one proof per entry and event-loop turn, shared by the hits of that turn (every request a turn ' +
      'serves was read from its socket before the turn began, hence before the proof); the next turn proves again',
    commit: '0d49c43',
    method:
      'bench/ab.ts, 9 interleaved rounds of 1 s, run both ways round (the commit before as A, then as B), quiet machine',
    figures: [
      { row: 'read-file 1 KiB, 32 in flight', figure: 'calls/s (run 1)', before: 52357, after: 59370 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'calls/s (run 2)', before: 52344, after: 61735 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 1)', before: 19.9, after: 17.8 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 2)', before: 20.0, after: 17.2 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s (run 1)', before: 37367, after: 41640 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s (run 2)', before: 37900, after: 42452 },
      { row: 'read-file 1 KiB, 1 in flight', figure: 'p50 ms (run 1)', before: 0.125, after: 0.134 },
      { row: 'read-file 1 KiB, 1 in flight', figure: 'p50 ms (run 2)', before: 0.127, after: 0.13 },
    ],
  },
  {
    change:
      "read-file: a warm file's inline read shared by the reads of the same descriptor in one event-loop turn, its text " +
      'decoded and escaped once (tools/turn-memo.ts: the same turn rule as the proofs)',
    commit: '28035da',
    method:
      'bench/ab.ts, 9 interleaved rounds of 1 s, run both ways round (the commit before as A, then as B), quiet machine',
    figures: [
      { row: 'read-file 1 KiB, 32 in flight', figure: 'calls/s (run 1)', before: 59659, after: 68473 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'calls/s (run 2)', before: 60328, after: 68216 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 1)', before: 17.8, after: 15.4 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 2)', before: 17.1, after: 15.9 },
      { row: 'read-file 1 KiB, 1 in flight', figure: 'p50 ms (run 1)', before: 0.131, after: 0.125 },
    ],
  },
  {
    change:
      'a file lease is one class instance (was an object and four closures per read); the direct frame walks the ' +
      "result with for-in, member keys serialised once, a 2026-07-28 result's server-info _meta made into JSON once",
    commit: '2f0d7b2',
    method:
      'bench/ab.ts, 9 interleaved rounds of 1 s, run both ways round (the commit before as A, then as B), quiet machine',
    figures: [
      { row: 'read-file 1 KiB, 32 in flight', figure: 'calls/s (run 1)', before: 60161, after: 64372 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'calls/s (run 2)', before: 64497, after: 67028 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 1)', before: 17.7, after: 16.1 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 2)', before: 16.1, after: 15.6 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s (run 1)', before: 39059, after: 40256 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'calls/s (run 2)', before: 40592, after: 42448 },
    ],
  },
  {
    change:
      'Streamable HTTP 2026-07-28: the requests read in one event-loop iteration dispatched together in its check ' +
      "phase, in one turn (http/check-phase-batch.ts): they share the open-file cache's proof and a small file's read",
    commit: '40524ac',
    method:
      'bench/http-ab.ts, 9 interleaved repetitions, run both ways round (this checkout against the one before, then ' +
      'the one before against this), quiet machine',
    figures: [
      { row: 'read-file 1 KiB, HTTP 2026-07-28, 32 in flight', figure: 'calls/s (run 1)', before: 10498, after: 17285 },
      { row: 'read-file 1 KiB, HTTP 2026-07-28, 32 in flight', figure: 'calls/s (run 2)', before: 11059, after: 20119 },
      {
        row: 'read-file 1 KiB, HTTP 2026-07-28, 32 in flight',
        figure: 'server CPU µs/call (run 1)',
        before: 96,
        after: 61,
      },
      {
        row: 'read-file 1 KiB, HTTP 2026-07-28, 32 in flight',
        figure: 'server CPU µs/call (run 2)',
        before: 93,
        after: 54,
      },
    ],
  },
  {
    change:
      'A closed connection no longer rides through young collections: the transport takes its listeners off the closed ' +
      "WebSocket (ws keeps each one until a full collection: its auto-pong closure is allocated in V8's old generation) " +
      'and the heartbeat map drops it; no per-connection or per-request closure is a function literal assigned straight ' +
      'to a property (V8 allocates those old too; a repo test keeps it so). Neither half alone changed anything',
    commit: '0d524a4',
    method:
      'the server under --trace-gc-nvp, 3,300 sequential handshakes of one era (median over ~25 scavenges); ' +
      'bench/ab.ts 7 rounds and bench/http-ab.ts 7 repetitions for the call rows (within noise)',
    figures: [
      { row: 'sequential handshakes, 2025-11-25', figure: 'KiB copied per scavenge', before: 1597, after: 1249 },
      { row: 'sequential handshakes, 2025-11-25', figure: 'scavenge pause ms (p50)', before: 3.1, after: 2.5 },
      { row: 'sequential handshakes, 2026-07-28', figure: 'KiB copied per scavenge', before: 1317, after: 953 },
      { row: 'sequential handshakes, 2026-07-28', figure: 'scavenge pause ms (p50)', before: 2.7, after: 2.2 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call', before: 15.6, after: 15.5 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call', before: 25.4, after: 24.2 },
      { row: 'read-file 1 KiB, HTTP 2026-07-28, 32 in flight', figure: 'server CPU µs/call', before: 49, after: 50 },
    ],
  },
  {
    change:
      "`server/discover` answered from the shared dispatch's memory: a probe of exactly the plain shape whose " +
      'envelope the SDK already answered with a result gets that result again under its own id (the result is a ' +
      'pure function of the server, built once, and of the envelope); the first of each envelope and anything else ' +
      'go to the SDK, and a differential test compares both paths byte for byte over WebSocket and HTTP. The SDK ' +
      'parsed each probe with its wire schemas (response schemas first) and encoded the result: a quarter of what a ' +
      '2026-07-28 handshake allocated',
    commit: '95696f1',
    method:
      'bench/run.ts --only=handshake with BENCH_SERVER_ROOT at the commit before and at this one, alternated, 3 runs ' +
      'each (medians of the runs; 4,000 interleaved handshakes per era and run); the server under --trace-gc-nvp, ' +
      '3,300 sequential 2026-07-28 handshakes; the sampling heap profiler over 2,000 of them',
    figures: [
      { row: 'handshake 2026-07-28', figure: 'p50 ms', before: 0.43, after: 0.374 },
      { row: 'handshake 2026-07-28', figure: 'p99 ms', before: 2.049, after: 1.871 },
      { row: 'handshakes, both eras (12,000)', figure: 'server scavenges', before: 62, after: 53 },
      { row: 'sequential handshakes, 2026-07-28', figure: 'KiB allocated per handshake', before: 75, after: 53.7 },
      { row: 'sequential handshakes, 2026-07-28', figure: 'KiB copied per scavenge', before: 974, after: 727 },
      { row: 'sequential handshakes, 2026-07-28', figure: 'scavenge pause ms (p50)', before: 2.2, after: 1.8 },
    ],
  },
  {
    change:
      "A 2025-era connection's `initialize` answered from memory too: the version's shared server answers an " +
      'initialize of the plain shape whose exact params it answered before with that result again, and the request ' +
      'classifier remembers the 2025-era verdict of a header-less one. The tail is shared differently, not ' +
      'shortened: a scavenge falls in whichever handshake allocates at that moment, and with the two eras now ' +
      'allocating alike the 2026-07-28 handshakes take more of them (over 2 ms per 4,000 interleaved: 2025-11-25 ' +
      '50/55 -> 52/42, 2026-07-28 31/33 -> 48/41; the bare echo 25-43 by itself)',
    commit: '5be84da',
    method:
      'bench/run.ts --only=handshake with BENCH_SERVER_ROOT at the commit before and at this one, alternated, 3 runs ' +
      'each (medians of the runs); bench/tmp scratch for the counts over 2 ms (4,000 interleaved handshakes per kind)',
    figures: [
      { row: 'handshake 2025-11-25', figure: 'p50 ms', before: 0.447, after: 0.402 },
      { row: 'handshakes, both eras (12,000)', figure: 'server scavenges', before: 53, after: 42 },
      { row: 'handshakes, both eras (12,000)', figure: 'scavenge pause ms (p50)', before: 2.73, after: 2.21 },
    ],
  },
  {
    change:
      'WebSocket frames leave as Buffers made once: as strings, ws measured their UTF-8 length again after the ' +
      "transport had, and the socket copied them into a new buffer at the write. A small Buffer is a slice of a chunk of Node's " +
      'buffer pool (64 KiB in Node 24) that its pending write keeps alive whole, so the bytes a connection holds count ' +
      'each chunk its pending frames are cut from once, at its full size (transport/pool-pins.ts; a test fails when ' +
      'they are counted at their length). An earlier round measured the encoding alone in calls/s over 5 rounds and saw ' +
      'nothing (under not kept); server CPU per call, both ways round, sees it',
    commit: '2094d8f',
    method:
      'bench/ab.ts, three runs of 7, 7 and 9 interleaved rounds of 1 s, the new version as A in the first and as B in ' +
      'the other two; ' +
      'medians of server CPU per call',
    figures: [
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 1)', before: 15.6, after: 15.1 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 2)', before: 15.5, after: 14.6 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 3)', before: 15.3, after: 14.8 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (run 1)', before: 24.6, after: 23.0 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (run 2)', before: 24.9, after: 23.8 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (run 3)', before: 23.9, after: 23.9 },
    ],
  },
  {
    change:
      'Request ids are their own map keys (a string or a number: Map keys compare by SameValueZero, so 1 and "1" stay ' +
      "two ids) instead of a string built per request, which each of the three in-flight maps (the connection's " +
      'account, the direct path\'s running calls, the transport) hashed again; a test keeps 5 and "5" two requests',
    commit: '3b989c3',
    method: 'bench/ab.ts, two runs of 7 interleaved rounds of 1 s, the new version as B then as A; medians',
    figures: [
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 1)', before: 14.7, after: 14.1 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 2)', before: 14.2, after: 13.4 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (run 1)', before: 22.6, after: 22.3 },
      { row: 'list-files 10 entries, 32 in flight', figure: 'server CPU µs/call (run 2)', before: 22.6, after: 22.5 },
    ],
  },
  {
    change:
      "The server image's young generation at most 2 x 8 MiB instead of 2 x 16 (NODE_OPTIONS=--max-semi-space-size=8, " +
      'the bench runs the server with it): a young collection copies fewer survivors, so it pauses for less; twice as ' +
      'many of them. Over 12,000 interleaved handshakes the 2 ms tail is mostly the handshakes a collection falls in. ' +
      'The renewal ratio (calls around a renewal against silent ticks, p99) moved within its spread: 1.33, 1.38, 1.07 ' +
      'and 1.26 at 8 MiB against 1.08, 0.84, 1.52 and 1.01 at 16 (alternated renewal-only runs). 4 MiB cut the pauses ' +
      'further (0.86 ms) but opened 19,000 connections in 8.5-13.5 s instead of 4-5, with 15% fewer calls/s over them. ' +
      'The handshake p99 still sits on 2 ms when the machine is busier: three later runs at 8 MiB gave 1.79 / 1.67, ' +
      '1.90 / 2.06 and 2.08 / 2.06 ms (2025-11-25 / 2026-07-28; the echo 1.11-1.61), and the two full runs of ' +
      'npm run bench 1.31 / 2.06 and 2.12 / 1.88 (there the handshakes follow the call rows: pause p50 1.47-1.58 ms)',
    commit: 'cafeec1',
    method:
      'bench/run.ts --only=handshake, the two sizes alternated, 3 runs each (4,000 interleaved handshakes per era and ' +
      'run; medians of the runs); bench/ab.ts 7 rounds both ways round; bench/run.ts --only=connections ' +
      '--connections=19000, 2 repetitions per era',
    figures: [
      { row: 'handshakes, both eras (12,000)', figure: 'server scavenges', before: 42, after: 83 },
      { row: 'handshakes, both eras (12,000)', figure: 'scavenge pause ms (p50)', before: 1.95, after: 1.26 },
      { row: 'handshake 2025-11-25', figure: 'p99 ms', before: 1.666, after: 1.759 },
      { row: 'handshake 2026-07-28', figure: 'p99 ms', before: 1.954, after: 1.938 },
      {
        row: 'handshake p99, 2 eras x 5 runs',
        figure: 'figures under 2 ms (of 10; at 16 MiB 7 of 12)',
        before: 7,
        after: 10,
      },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 1)', before: 13.7, after: 12.7 },
      { row: 'read-file 1 KiB, 32 in flight', figure: 'server CPU µs/call (run 2)', before: 13.0, after: 13.2 },
      { row: '19,000 connections, 2025-11-25', figure: 'ms to open them (rep 1)', before: 4999, after: 4804 },
      { row: '19,000 connections, 2025-11-25', figure: 'KiB RSS per connection (rep 1)', before: 9, after: 9 },
    ],
  },
];

/**
 * Measured and not kept: what was tried, what it would have gained, and why it stayed out.
 * Rendered under the changes so the next round does not try them again blind.
 */
export const NOT_KEPT: readonly string[] = [
  "Registering the tools without the SDK's outputSchema (tools/list announces it anyway) to skip the SDK's zod " +
    'check of the structured content on every call: that check costs 0.2 µs (read-file) and 0.7 µs (list-files, ' +
    '10 entries) per call in isolation, under 1% of a call; not worth dropping a guard.',
  'Server CPU profile of read-file 1 KiB at 32 in flight (in-process, after the changes above): garbage collection ' +
    '19%, zod 9% and the SDK 5% of samples: the request is validated twice (the stored handler and the tools/call ' +
    'wrapper), then the arguments and the result, each parse copying objects. Beating the naive peer 3x would take a ' +
    'tools/call dispatch beside the SDK; not attempted in this round (done in the next: the direct path above).',
  'Sharing one /proc proof of the open-file cache among the hits of one event-loop iteration (at most 1 ms): the ' +
    'proof (readlink of /proc/self/fd plus fstat) is the largest cost left in a read (read-file 1 KiB at 32 in flight ' +
    'with no proof at all: 43,791 -> 57,832 calls/s, server CPU 22.6 -> 17.0 µs/call), but a file replaced in the same ' +
    "iteration as a proof would then be served from the cache, and the cache's tests of a replace right after a read " +
    'fail. Every hit keeps its own proof.',
  "Accepting envelope-only `_meta` in decodeFrame's shortcut (WebSocket 2026-07-28 requests skip the SDK's message " +
    'schema): read-file 1 KiB at 32 in flight 39,808 -> 40,298 calls/s, CPU 24.9 -> 24.8 µs/call, within noise; ' +
    'not kept.',
  'A larger young generation for the server (--max-semi-space-size=32) against the handshake tail: p99 3.67 / 3.32 ms ' +
    '-> 3.63 / 3.63 ms over 3,000 sequential handshakes, no change. The bare ws echo, connect + first answer, has a ' +
    'p99 of 1.3-3.0 ms on this machine from run to run (the handshake row now shows it beside ours); ours sits about ' +
    '1-1.5 ms above it at p99 and 0.26 ms at p50, most of which is the SDK instance each connection builds.',
  'Three smaller items `perf` pointed at, each within noise in bench/ab.ts (5 rounds): encoding a response to a ' +
    'Buffer once in the WebSocket transport instead of measuring the string twice and encoding it in the socket ' +
    '(read-file 1 KiB/32: 64,905 -> 63,620 calls/s); a memo of normalized paths (66,511 -> 65,267); reading the names ' +
    'of a directory read whole without a promise each (list-files: 21,485 -> 21,322). None kept.',
  'Memory per connection (heap snapshot of 1,000 initialized idle connections): about 10 KiB is the SDK instance ' +
    "(McpServer, its Protocol maps and handler closures, registered tools) and the serveStdio entry's closures, about " +
    '3 KiB the ws and net objects, the rest ours. Connections of both eras are now served without one while they ' +
    'only call tools (the changes above: 2026-07-28 first, then 2025-11-25). The first version of that path ' +
    'classified every request and made four closures per call: 2026-07-28 read-file 1 KiB/32 cost 1.5 µs/call more ' +
    'and list-files 3.8; the direct path is now tried first (parity).',
  'Handshake tail: the server is idle half the time during sequential handshakes (CPU profile of 6,000): the p50 is ' +
    'socket writes and wake-ups on both sides (writev alone 7% of samples), the p99 is the machine. The bare ws echo, ' +
    'connect + first answer, has a p99 of 1.8-3.0 ms from run to run on this machine, above the 2 ms goal by itself; ' +
    'a 2026-07-28 handshake (no SDK instance) is 0.05-0.1 ms faster at p50 than a 2025-11-25 one.',
  'A WeakMap from each result to its encoded parts and from each response to its frame: read-file 1 KiB at 32 in ' +
    'flight went from 15.6 to 20.0 µs/call (ephemeron tables churned by every call are costly to the scavenger); ' +
    'replaced by a symbol-keyed property and a frame argument (190489e).',
  'Garbage-collector settings against the handshake tail, 4,000 sequential handshakes each: default p99 2.84 and ' +
    '3.34 ms, --single-threaded-gc 3.22, --max-semi-space-size=4 3.04, =2 2.59: within the spread of the default; ' +
    'none kept. (--trace-gc: about 20 scavenges of 7-14 ms in 3,000 handshakes, one in 150.)',
  'Server RSS per connection is mostly V8 heap held, not heap used: with 3,000 initialized connections heapTotal grew ' +
    '55.7 KiB per connection while heapUsed grew 20.3 and external memory 0.15 (MALLOC_ARENA_MAX=1: no change). ' +
    'Found since: the young generation (new space 34 -> 134 MiB committed while 10,000 connections open, none of it ' +
    'in use after a GC; V8 shrank it after 20 s idle, but the pages stayed resident). Kept: a 16 MiB semi-space ' +
    '(the change above); --max-semi-space-size=4 would save 2 KiB more per connection at 10,000, not measured for calls.',
  'Remembering the encoded text of a small file read again (skipping the read, the decode and the escape while the ' +
    "file's ctime stays settled): not built. A write through a shared writable mapping to a page already dirty does " +
    "not move ctime until the page is written back, so such a cache could serve old contents; read-file's answer " +
    'must be what pread returns now.',
  'The audit line is a tenth of a read-file call: without it (a what-if build) read-file 1 KiB at 32 in flight went ' +
    'from 58,371 to 64,886 calls/s, 16.8 -> 15.2 µs/call; pino alone costs 0.73 µs a line, ours 0.79 plus the batched ' +
    'write. Every call is audited, so it stays; with the /proc proof (about 1.5 µs) it is most of the gap to half the echo.',
  "The open-file cache's proof through /proc/<pid>/fd instead of /proc/self/fd (when /proc/self names this process): " +
    'one symlink fewer for the kernel to resolve, a readlink 4.4 -> 3.7 µs in a loop, but in the server (bench/ab.ts, ' +
    '9 rounds, run both ways round) read-file 1 KiB/32 measured 26.3 vs 29.8 and 26.5 vs 30.1 µs/call with the ' +
    "server given as A ahead each time: the gain is under this machine's noise; not kept.",
  'One setImmediate per turn to count tool calls finished (for shutdown) instead of one per call: read-file 1 KiB/32 ' +
    '64,598 -> 65,160 and 66,958 -> 68,173 calls/s (bench/ab.ts both ways round, 9 rounds): within noise; not kept.',
  'The handshake tail against the machine: with 2,000 sequential handshakes per repetition (was 500, whose p99 is the ' +
    '5th slowest and moved 0.6-3.6 ms between repetitions), the bare ws echo, connect + first answer through the raw ' +
    'client, has a p99 of 2.0-2.1 ms on this machine by itself: ours sits at it (2025-11-25: 1.85-1.94 ms, 2026-07-28: ' +
    '2.27-2.33 ms). Sequential handshakes leave both processes idle between them, and waking an idle vCPU is the tail.',
  'Where what stays of the handshake tail comes from (after 0d524a4): a scavenge every ~190 sequential handshakes ' +
    "still copies ~10 KiB of each closed connection, pausing ~2.5 ms: the socket and WebSocket, and zod's failing " +
    'parses: the SDK tries the response schemas first on every message, and a failing zod 4.6 safeParse leaves its ' +
    'input and issues to be promoted (318 KiB per 300 failing parses of a plain z.object, none for passing ones; the ' +
    'path inside zod not found). Not ours to fix ' +
    'here. A 2 MiB young generation instead of 16 cuts the pauses: p99 2.27 / 2.13 and 1.73 / 2.26 ms -> 1.80 / 1.30 ' +
    'and 1.68 / 1.47 ms (2025-11-25 / 2026-07-28, 4,000 interleaved handshakes each), but read-file 1 KiB/32 costs ' +
    '13.2 -> 13.7 µs/call and list-files 22.0 -> 24.3 (bench/ab.ts, 7 rounds); 8 MiB: within noise. Not kept.',
  "V8's page promotion off (--no-page-promotion): under read-file 1 KiB at 32 in flight for 4 s the server's young " +
    'collections promoted 600-750 KiB each (whole pages moved to the old generation, garbage and all; a full ' +
    'collection every ~1.2 s) and 27 KiB with the flag, pauses 1.6-1.8 -> 0.65 ms, 58-61k -> 65-68k calls/s (one ' +
    'run in four without the flag was in the good state by itself). But bench/ab.ts (7 rounds of 1 s) saw no change ' +
    '(15.2 -> 15.7 µs/call, list-files 24.6 -> 24.5), and the handshake and renewal sections neither (scavenge pause ' +
    'p50 2.16 -> 2.41 ms; renewal ratio 1.16 -> 1.41). V8 takes the flag only on the command line (NODE_OPTIONS ' +
    'refuses it, v8.setFlagsFromString at startup has no effect: measured), so shipping it means every way of ' +
    'starting the server; not kept without a gain in the rows that count.',
  'Where the young collections still copy under calls: Map backing stores reallocated by set/delete churn (the ' +
    "direct path's calls in flight, the open-file cache moving a hit to the end, the transport's exchanges) were " +
    'about a third of what survived per call in a sampling heap profile (~450 of ~1,400 bytes). Not changed.',
  'The open-file cache not moving a hit to the end when it is already the newest entry (one Map delete and set ' +
    'fewer per warm call): read-file 1 KiB/32 15.6 -> 14.8, 15.5 -> 12.7 and 15.6 -> 15.7 µs/call in three ' +
    'bench/ab.ts runs (7-9 rounds, both ways round), list-files 24.7 -> 24.9: within the noise of this machine; ' +
    'not kept.',
  'A child logger per principal and tool binding the `event` and `tool` fields of every tool.call line (pino ' +
    'serialises bindings once): 620 -> 431 ns a line in a loop, but bench/ab.ts saw nothing (read-file 1 KiB/32 ' +
    '13.2 -> 13.1 and 13.6 -> 13.5 µs/call, 7 rounds both ways round); not kept.',
  'Where a handshake still allocates (sampling heap profiler, 2,000 sequential handshakes: 44.6 KiB each in ' +
    '2025-11-25, 46.7 in 2026-07-28): 2.6 KiB of it are Node errors with stack traces that ws 8.23 makes and drops ' +
    "on every closed connection: its receiver ends itself at the close frame, then the socket's end and close " +
    'listeners end it again, and a second end() of a finished Writable builds ERR_STREAM_ALREADY_FINISHED. The bare ' +
    'echo pays the same; not ours to change here.',
  "V8's parallel scavenge off (--no-parallel-scavenge, the young collection on the main thread alone, as a 2-core " +
    'machine with three busy processes might favour): handshake p99 2.20 / 2.38, 1.83 / 2.36 and 2.25 / 2.43 ms ' +
    'against 2.13 / 2.05, 1.96 / 2.42 and 1.72 / 2.35 with it (2025-11-25 / 2026-07-28, alternated handshake-only ' +
    'runs), pause p50 1.74-1.86 against 1.53-1.62 ms; not kept.',
  'What still makes a young collection copy during handshakes: closed connections. A bare node:net server keeps ' +
    '~1.2-1.4 KiB per closed connection alive through two young collections (until a full one), ws adds ~2 KiB ' +
    '(measured in-process, heap spaces around gc({type: "minor"}) with V8 flags --no-reclaim-unmodified-wrappers ' +
    'and --minor-ms changing nothing); of the ~5.8 KiB per handshake that survive in the server (sampling heap ' +
    'profile of the objects young collections missed), ~0.7 KiB are allocated by our code. Not ours to change here.',
];
