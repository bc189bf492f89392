// Shared by the helm-*.test.ts files: runs scripts/validate-chart.sh and the cached helm it installs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

export const root = fileURLToPath(new URL('../../../', import.meta.url));
export const chart = join(root, 'deploy/helm/mcp-server');
const cache =
  process.env.MCP_K8S_TOOLS_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mcp-ws-keycloak', 'k8s-tools');
export const helm = join(cache, 'bin', 'helm');
/** Building helm and kubeconform on a fresh machine (minutes; CI warms the cache in .ci/run first). */
export const TOOL_INSTALL_MS = 15 * 60_000;
// The script runs node scripts: this node first on its PATH.
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };

/** Exit code and combined output of a finished command. */
export interface Run {
  readonly code: number;
  readonly output: string;
}

/** Runs `file` in the repository root; never throws on a non-zero exit. */
export async function run(file: string, args: readonly string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, { cwd: root, env, maxBuffer: 16 << 20 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** bash scripts/validate-chart.sh with `args`. */
export const validate = (...args: string[]) => run('bash', ['scripts/validate-chart.sh', ...args]);

/** Installs the tools unless cached; for a `before` hook with {@link TOOL_INSTALL_MS}. */
export async function installTools(): Promise<void> {
  const tools = await validate('--tools-only');
  assert.equal(tools.code, 0, tools.output);
}

/** A rendered Kubernetes object (the fields the tests read). */
export type Doc = {
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
  data?: Record<string, string>;
};

/** The chart rendered with a values file and `--set` overrides. */
export async function render(valuesFile: string, ...set: string[]): Promise<Doc[]> {
  const args = [
    'template',
    'mcp',
    chart,
    '--kube-version',
    '1.37.0',
    '-f',
    valuesFile,
    ...set.flatMap((s) => ['--set', s]),
  ];
  const result = await run(helm, args);
  assert.equal(result.code, 0, result.output);
  return parseAllDocuments(result.output)
    .map((d) => d.toJS() as Doc)
    .filter((d) => d !== null);
}
