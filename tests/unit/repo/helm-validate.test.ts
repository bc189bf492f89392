// scripts/validate-chart.sh, the offline check of the Helm chart and the Kubernetes examples, passes on
// the repository and fails on a defect of each kind it exists to catch: a misspelt field in a template,
// a value the schema refuses, an invalid example manifest (what it renders: helm-rendered.test.ts).
// The first run builds helm and kubeconform from the Go module proxy into ~/.cache (minutes; CI warms
// the cache in .ci/run first); later runs take seconds.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chart, installTools, root, TOOL_INSTALL_MS, validate } from './helm-tools.ts';

let scratch = '';
before(
  async () => {
    scratch = mkdtempSync(join(tmpdir(), 'validate-chart-'));
    await installTools();
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
    // Each against the oldest Kubernetes the chart supports and the newest with schemas here.
    for (const version of ['1.30.0', '1.37.0']) {
      for (const values of valuesFiles.map((name) => `${name}-values`)) {
        const resources =
          /::: chart \S+ with (\S+), Kubernetes (\S+)\nSummary: (\d+) resources found in 1 file - Valid: (\d+), Invalid: 0, Errors: 0, Skipped: 0\n/g;
        const found = [...result.output.matchAll(resources)].find((m) => m[1] === values && m[2] === version);
        assert.ok(found, `${values} on ${version}`);
        assert.equal(found[3], found[4], `${values} on ${version}: every resource valid`);
      }
      assert.match(
        result.output,
        new RegExp(
          `::: manifests in deploy/kubernetes, Kubernetes ${version}\nSummary: 5 resources found in 3 files - Valid: 5, Invalid: 0, Errors: 0, Skipped: 0`,
        ),
      );
    }
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
