// The production topology (deploy/compose.production.yaml) under a project of its own: development
// certificates and secrets in a temporary directory, free host ports, build, up, health, stop/start of
// one service, HAProxy's view of its servers, and Keycloak's cluster view from the nodes' logs. Used
// by the failover test and the topology bench. Images: the .env defaults, or KEYCLOAK_IMAGE /
// NODE_IMAGE / POSTGRES_IMAGE / LB_IMAGE (the stand-ins in CI).
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../support/wait.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Services of the topology, in start order. */
export const SERVICES = ['postgres', 'keycloak-1', 'keycloak-2', 'lb', 'mcp-1', 'mcp-2', 'mcp-3'] as const;
export type Service = (typeof SERVICES)[number];

/** One server line of HAProxy's CSV statistics. */
export interface LbServer {
  readonly backend: string;
  readonly server: string;
  /** UP, DOWN, MAINT, "UP 1/2" (going down), "DOWN 1/2" (coming up)... */
  readonly status: string;
  /** Sessions open now. */
  readonly current: number;
  /** Sessions since start (a request to a dead server counts as an attempt here). */
  readonly total: number;
  /** A `backup` server (HAProxy's `bck`): used only while every other server of its backend is down. */
  readonly backup: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Fully in rotation: HAProxy's status is exactly UP (after `rise` good checks). */
export function inRotation(status: string): boolean {
  return status === 'UP';
}

/** Every checked server of the load balancer is in rotation (the unchecked last-resort backups have no status to wait for). */
export function allInRotation(servers: readonly LbServer[]): boolean {
  return servers.every((s) => s.backup || inRotation(s.status));
}

/**
 * Out of rotation: DOWN, MAINT, or "DOWN 1/2" (coming back). "UP 1/2" (one failed check, going
 * down) still receives requests, so it is neither.
 */
export function outOfRotation(status: string): boolean {
  return !status.startsWith('UP') && status !== 'no check';
}

/** A running (or about to run) copy of deploy/compose.production.yaml. */
export class ProductionStack {
  readonly project: string;
  readonly mcpUrl: string;
  readonly issuer: string;
  readonly keycloakUrl: string;
  readonly statsUrl: string;
  readonly secretsDir: string;
  readonly caPem: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #dir: string;
  /** `-f` arguments: the production file, then any overrides (the bench raises per-client limits). */
  readonly #files: string[];
  /** Container ids by service: asked once (Compose v1 takes about a second per call, blocking). */
  readonly #ids = new Map<Service, string>();

  private constructor(
    project: string,
    dir: string,
    ports: { mcp: number; kc: number; stats: number },
    overrides: readonly string[],
  ) {
    this.project = project;
    this.#dir = dir;
    this.#files = ['deploy/compose.production.yaml', ...overrides].flatMap((f) => ['-f', f]);
    this.secretsDir = path.join(dir, 'secrets');
    this.mcpUrl = `https://localhost:${ports.mcp}/mcp`;
    this.keycloakUrl = `https://localhost:${ports.kc}`;
    this.issuer = `${this.keycloakUrl}/realms/mcp`;
    this.statsUrl = `http://127.0.0.1:${ports.stats}`;
    this.#env = {
      ...process.env,
      MCP_HTTPS_PORT: String(ports.mcp),
      KEYCLOAK_HTTPS_PORT: String(ports.kc),
      LB_STATS_PORT: String(ports.stats),
      CERTS_DIR: path.join(dir, 'certs'),
      SECRETS_DIR: this.secretsDir,
    };
    run('bash', ['scripts/dev-certs.sh', path.join(dir, 'certs')]);
    run('bash', ['deploy/make-secrets.sh', this.secretsDir]);
    this.caPem = readFileSync(path.join(dir, 'certs', 'ca.crt'), 'utf8');
  }

  /**
   * Makes certificates and secrets for a new project on free ports (nothing runs yet).
   * `overrides`: further compose files (paths from the repository root), merged over the production file.
   */
  static async create(project: string, overrides: readonly string[] = []): Promise<ProductionStack> {
    const ports = { mcp: await freePort(), kc: await freePort(), stats: await freePort() };
    return new ProductionStack(project, mkdtempSync(path.join(tmpdir(), `${project}-`)), ports, overrides);
  }

  /** Reads one of the generated secrets (e.g. `oauth-client-secret`). */
  secret(name: string): string {
    return readFileSync(path.join(this.secretsDir, name), 'utf8').trim();
  }

  /** `docker compose` on this project; throws with its output when it fails. */
  compose(args: string[], timeoutMs = 900_000): string {
    const res = this.#composeRaw(args, timeoutMs);
    if (res.status !== 0) throw new Error(`docker compose ${args.join(' ')} failed (${res.status}):\n${res.stderr}`);
    return res.stdout;
  }

  #composeRaw(args: string[], timeoutMs = 900_000): SpawnSyncReturns<string> {
    const res = spawnSync('docker', ['compose', '--env-file', '.env', '-p', this.project, ...this.#files, ...args], {
      cwd: root,
      env: this.#env,
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (res.error) throw res.error;
    return res;
  }

  /** The container id of `service`. */
  container(service: Service): string {
    const known = this.#ids.get(service);
    if (known) return known;
    const id = this.compose(['ps', '-q', service]).trim();
    if (!id) throw new Error(`no container for ${service}`);
    this.#ids.set(service, id);
    return id;
  }

  /** Docker's health of `service`: healthy, unhealthy, starting, or the state when it has stopped. */
  health(service: Service): string {
    const res = spawnSync(
      'docker',
      [
        'inspect',
        '-f',
        '{{if .State.Running}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}',
        this.container(service),
      ],
      { encoding: 'utf8' },
    );
    return res.stdout.trim();
  }

  /** Waits until every service (or those named) is healthy; resolves to the ms it took. */
  async waitHealthy(timeoutMs: number, services: readonly Service[] = SERVICES): Promise<number> {
    return waitUntil(
      () => services.every((s) => this.health(s) === 'healthy'),
      timeoutMs,
      1000,
      `${services.join(', ')} healthy`,
    );
  }

  /** `docker kill` (SIGKILL: a crash) or `docker stop` (SIGTERM, then the service's grace). */
  async halt(service: Service, how: 'kill' | 'stop'): Promise<void> {
    await docker([how, this.container(service)]);
  }

  /** Starts a halted service again. */
  async start(service: Service): Promise<void> {
    await docker(['start', this.container(service)]);
  }

  /** HAProxy's servers, from its CSV statistics. */
  async lbServers(): Promise<LbServer[]> {
    const csv = await (await fetch(`${this.statsUrl}/stats;csv`)).text();
    const [header = '', ...rows] = csv.trim().split('\n');
    const cols = header.replace(/^# /, '').split(',');
    const at = (name: string) => cols.indexOf(name);
    return rows
      .map((r) => r.split(','))
      .filter((f) => f[at('svname')] !== 'FRONTEND' && f[at('svname')] !== 'BACKEND')
      .map((f) => ({
        backend: f[at('pxname')] ?? '',
        server: f[at('svname')] ?? '',
        status: f[at('status')] ?? '',
        current: Number(f[at('scur')]),
        total: Number(f[at('stot')]),
        backup: f[at('bck')] === '1',
      }));
  }

  /** One server's line from {@link lbServers}. */
  async lbServer(server: Service): Promise<LbServer> {
    const found = (await this.lbServers()).find((s) => s.server === server);
    if (!found) throw new Error(`HAProxy does not list ${server}`);
    return found;
  }

  /** The service's log (stdout and stderr). */
  logs(service: Service): string {
    const res = spawnSync('docker', ['logs', this.container(service)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    return res.stdout + res.stderr;
  }

  /** Member counts of the Infinispan cluster views a Keycloak node logged (ISPN000094), oldest first. */
  clusterViews(service: 'keycloak-1' | 'keycloak-2'): number[] {
    return [
      ...this.logs(service).matchAll(/ISPN000094: Received new cluster view for channel ISPN: \[[^\]]*\] \((\d+)\)/g),
    ].map((m) => Number(m[1]));
  }

  /**
   * HAProxy's log lines other than successful requests (101, 200) and their health-check chatter:
   * state changes and requests that ended badly, with their termination state, for a failure report.
   */
  lbTrouble(max = 60): string[] {
    return this.logs('lb')
      .split('\n')
      .filter((l) => l.trim() && !/" 101 |\] \S+ \S+ \S+ 200 |^\[WARNING\]/.test(l) && !/ (101|200) \d+ /.test(l))
      .slice(-max);
  }

  /** Tail of every service's log, for a failure message. */
  diagnostics(lines = 30): string {
    return this.#composeRaw(['logs', '--no-color', '--tail', String(lines)]).stdout;
  }

  /** `down -v` and the temporary directory removed. */
  destroy(): void {
    this.#composeRaw(['down', '-v', '--remove-orphans', '--timeout', '5']);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[]): void {
  const res = spawnSync(cmd, args, { cwd: root, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${res.stdout}${res.stderr}`);
}

/** A docker command without blocking the event loop (the load keeps running meanwhile). */
function docker(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker ${args.join(' ')}: ${err}`))));
  });
}
