// scripts/validate-chart.sh, the offline check of the Helm chart and the Kubernetes examples, passes on
// the repository and fails on a defect of each kind it exists to catch: a misspelt field in a template,
// a value the schema refuses, an invalid example manifest. The rendered Deployment is checked against
// what the server does (probe paths and port, drain timing, read-only non-root container).
// The first run builds helm and kubeconform from the Go module proxy into ~/.cache (minutes; CI warms
// the cache in .ci/run first); later runs take seconds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const chart = join(root, 'deploy/helm/mcp-server');
const cache =
  process.env.MCP_K8S_TOOLS_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mcp-ws-keycloak', 'k8s-tools');
const helm = join(cache, 'bin', 'helm');
// The script runs node scripts; this node first on its PATH.
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
const TOOL_INSTALL_MS = 15 * 60_000;

interface Run {
  readonly code: number;
  readonly output: string;
}

async function run(file: string, args: readonly string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, { cwd: root, env, maxBuffer: 16 << 20 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
const validate = (...args: string[]) => run('bash', ['scripts/validate-chart.sh', ...args]);

type Doc = { kind: string; metadata: { name: string }; spec: Record<string, unknown>; data?: Record<string, string> };
async function render(valuesFile: string, ...set: string[]): Promise<Doc[]> {
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

let scratch = '';
before(
  async () => {
    scratch = mkdtempSync(join(tmpdir(), 'validate-chart-'));
    const tools = await validate('--tools-only');
    assert.equal(tools.code, 0, tools.output);
  },
  { timeout: TOOL_INSTALL_MS },
);
after(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * A copy of the chart with `edit` applied to one of its files, validated with one values file (one
 * that renders the edited template) to keep the run short.
 */
function brokenChart(file: string, edit: (text: string) => string, values = 'minimal-values.yaml'): string {
  const dir = join(scratch, `chart-${Math.random().toString(36).slice(2)}`);
  cpSync(chart, dir, { recursive: true });
  for (const other of readdirSync(join(dir, 'ci')).filter((f) => f !== values)) rmSync(join(dir, 'ci', other));
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  const edited = edit(text);
  assert.notEqual(edited, text, `the edit of ${file} changed nothing`);
  writeFileSync(path, edited);
  return dir;
}

describe('scripts/validate-chart.sh', () => {
  it('passes on the chart (every ci values file) and the Keycloak examples', async () => {
    const result = await validate();
    assert.equal(result.code, 0, result.output);
    const valuesFiles = ['docs-example', 'fixed-replicas-tls', 'gateway', 'minimal', 'production'];
    for (const values of valuesFiles.map((name) => `${name}-values`)) {
      assert.match(
        result.output,
        new RegExp(
          `::: chart \\S+ with ${values}\\n(.*\\n)*?Summary: \\d+ resources found .* Invalid: 0, Errors: 0, Skipped: 0`,
        ),
      );
    }
    assert.match(
      result.output,
      /::: manifests in deploy\/kubernetes\nSummary: 5 resources found in 3 files - Valid: 5, Invalid: 0, Errors: 0, Skipped: 0/,
    );
    assert.match(result.output, /::: realm import\n.*realm-import\.yaml is up to date\n/);
    assert.match(result.output, /validate-chart: all valid/);
  });

  it('fails on a misspelt field in a template', async () => {
    const dir = brokenChart('templates/deployment.yaml', (t) => t.replace('readinessProbe:', 'readinesProbe:'));
    const result = await validate('--chart', dir);
    assert.notEqual(result.code, 0);
    assert.match(
      result.output,
      /Deployment mcp-mcp-server is invalid.*additional properties 'readinesProbe' not allowed/,
    );
  });

  it('fails on a wrong type in a template', async () => {
    const dir = brokenChart('templates/hpa.yaml', (t) => t.replace('value: 1\n', 'value: "one"\n'));
    const result = await validate('--chart', dir);
    assert.notEqual(result.code, 0);
    assert.match(result.output, /HorizontalPodAutoscaler mcp-mcp-server is invalid/);
  });

  it('fails on a misspelt field of a custom resource (checked against its CRD)', async () => {
    for (const [file, from, to, kind, values] of [
      ['templates/servicemonitor.yaml', 'scrapeTimeout:', 'scrapeTimout:', 'ServiceMonitor', 'production-values.yaml'],
      ['templates/httproute.yaml', 'backendRefs:', 'backendRef:', 'HTTPRoute', 'gateway-values.yaml'],
    ] as const) {
      const result = await validate(
        '--chart',
        brokenChart(file, (t) => t.replace(from, to), values),
      );
      assert.notEqual(result.code, 0, file);
      assert.match(result.output, new RegExp(`${kind} mcp-mcp-server is invalid.*'${to.slice(0, -1)}' not allowed`));
    }
  });

  it('fails on values the schema refuses: a setting the chart owns, a misspelt one', async () => {
    for (const [bad, expected] of [
      ['PORT: "8080"', /additional properties 'PORT' not allowed/],
      ['OAUTH_ISUER: https://x', /additional properties 'OAUTH_ISUER' not allowed/],
    ] as const) {
      const dir = brokenChart('ci/minimal-values.yaml', (t) => `${t}  ${bad}\n`);
      const result = await validate('--chart', dir);
      assert.notEqual(result.code, 0, bad);
      assert.match(result.output, expected);
    }
  });

  it('fails on an invalid Keycloak example (misspelt spec field, core object with a wrong type)', async () => {
    for (const [file, edit, expected] of [
      [
        'keycloak/keycloak.yaml',
        (t: string) => t.replace('  instances: 2', '  instance: 2'),
        /Keycloak mcp-keycloak is invalid.*'instance' not allowed/,
      ],
      [
        'keycloak/postgres.yaml',
        (t: string) => t.replace('replicas: 1', 'replicas: "1"'),
        /StatefulSet keycloak-postgres is invalid/,
      ],
    ] as const) {
      const dir = join(scratch, `manifests-${Math.random().toString(36).slice(2)}`);
      cpSync(join(root, 'deploy/kubernetes'), dir, { recursive: true });
      const text = readFileSync(join(dir, file), 'utf8');
      writeFileSync(join(dir, file), edit(text));
      assert.notEqual(edit(text), text);
      const result = await validate('--manifests', dir);
      assert.notEqual(result.code, 0, file);
      assert.match(result.output, expected);
    }
  });
});

/** The parts of the rendered pod the server's behaviour depends on. */
interface Container {
  ports: { name: string; containerPort: number }[];
  startupProbe: { httpGet: unknown };
  readinessProbe: { httpGet: unknown };
  livenessProbe: { httpGet: unknown };
  securityContext: unknown;
  lifecycle: { preStop: { sleep: { seconds: number } } };
  volumeMounts: { mountPath: string; readOnly: boolean }[];
}
interface PodSpec {
  containers: Container[];
  automountServiceAccountToken: boolean;
  securityContext: unknown;
  terminationGracePeriodSeconds: number;
}

describe('the rendered Deployment', () => {
  it('probes the server where it answers: /readyz (keys loaded) and /healthz on the PORT it listens on', async () => {
    const docs = await render(join(chart, 'ci/production-values.yaml'));
    const config = docs.find((d) => d.kind === 'ConfigMap')?.data ?? {};
    const deployment = docs.find((d) => d.kind === 'Deployment') as Doc;
    const pod = (deployment.spec.template as { spec: PodSpec }).spec;
    const container = pod.containers[0] as Container;
    assert.equal(String(container.ports.find((p) => p.name === 'mcp')?.containerPort), config.PORT);
    assert.equal(config.HOST, '0.0.0.0');
    assert.deepEqual(container.startupProbe.httpGet, { path: '/readyz', port: 'mcp', scheme: 'HTTP' });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'mcp', scheme: 'HTTP' });
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'mcp', scheme: 'HTTP' });
    assert.deepEqual(container.securityContext, {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
    });
    assert.equal(pod.automountServiceAccountToken, false);
    assert.deepEqual(pod.securityContext, {
      fsGroup: 1000,
      runAsGroup: 1000,
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.deepEqual(
      container.volumeMounts.map((m) => [m.mountPath, m.readOnly]),
      [
        ['/data', true],
        ['/run/secrets/introspection', true],
        ['/etc/mcp-server/ca', true],
      ],
    );
    // Drain: the grace period covers the preStop sleep plus the server's own shutdown grace.
    const preStop = container.lifecycle.preStop.sleep.seconds;
    assert.ok(pod.terminationGracePeriodSeconds >= preStop + Number(config.SHUTDOWN_GRACE_MS) / 1000);
  });

  it('NetworkPolicy: in only from the ingress controller (metrics: the scraper), out only to Keycloak and DNS', async () => {
    const docs = await render(join(chart, 'ci/production-values.yaml'));
    const policy = docs.find((d) => d.kind === 'NetworkPolicy') as Doc;
    const spec = policy.spec as {
      policyTypes: string[];
      ingress: { from: unknown[]; ports: { port: string }[] }[];
      egress: { to: { namespaceSelector: { matchLabels: Record<string, string> }; podSelector: unknown }[] }[];
    };
    assert.deepEqual(spec.policyTypes, ['Ingress', 'Egress']);
    const namespaceOf = (peer: unknown) =>
      (peer as { namespaceSelector: { matchLabels: Record<string, string> } }).namespaceSelector.matchLabels[
        'kubernetes.io/metadata.name'
      ];
    assert.deepEqual(
      spec.ingress.map((rule) => [rule.from.map(namespaceOf), rule.ports.map((p) => p.port)]),
      [
        [['ingress-nginx'], ['mcp']],
        [['monitoring'], ['metrics']],
      ],
    );
    assert.deepEqual(
      spec.egress.map((rule) => rule.to.map((peer) => [namespaceOf(peer), peer.podSelector])),
      [
        [['keycloak', { matchLabels: { app: 'keycloak', 'app.kubernetes.io/managed-by': 'keycloak-operator' } }]],
        [['kube-system', { matchLabels: { 'k8s-app': 'kube-dns' } }]],
      ],
    );
  });

  it('refuses a grace period too short to drain calls in flight', async () => {
    const result = await run(helm, [
      'template',
      'mcp',
      chart,
      '--kube-version',
      '1.37.0',
      '-f',
      join(chart, 'ci/minimal-values.yaml'),
      '--set',
      'lifecycle.terminationGracePeriodSeconds=12',
      '--set',
      'config.SHUTDOWN_GRACE_MS=10000',
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.output, /terminationGracePeriodSeconds \(12\) must be at least .* = 25/);
  });
});
