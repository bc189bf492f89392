// The Helm chart's `config` values are the server's settings: every variable loadConfig reads (and
// the README documents) can be set through the chart, nothing else can, and the variables the chart
// sets itself are refused in `config` (values.schema.json), so a value never silently does nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { specVariables, variableTable } from './config-tables.ts';

const read = (p: string) => readFileSync(new URL(`../../../${p}`, import.meta.url), 'utf8');
const schema = JSON.parse(read('deploy/helm/mcp-server/values.schema.json'));
const values = read('deploy/helm/mcp-server/values.yaml');
const configKeys = Object.keys(schema.properties.config.properties).sort();

/** Set by the chart from service, data, introspection, tls and metrics values (templates/configmap.yaml). */
const CHART_OWNED = [
  'HOST',
  'PORT',
  'TARGET_DIR',
  'INTROSPECTION_CLIENT_SECRET_FILE',
  'TLS_CERT_FILE',
  'TLS_KEY_FILE',
  'METRICS_PORT',
  'METRICS_HOST',
];
/** Read by the entry point (mcp-server/src/threadpool.ts), not by loadConfig. */
const ENTRY_POINT = ['UV_THREADPOOL_SIZE'];

describe('Helm chart configuration', () => {
  it('offers exactly the server settings the chart does not set itself', () => {
    const server = specVariables(read('mcp-server/src/config.ts'));
    const expected = [...server.filter((v) => !CHART_OWNED.includes(v)), ...ENTRY_POINT].sort();
    assert.deepEqual(configKeys, expected);
    for (const owned of CHART_OWNED) assert.ok(server.includes(owned), `${owned} is no longer a server setting`);
  });

  it('covers every variable of the README server table', () => {
    const documented = variableTable(read('README.md'), /\(`mcp-server`\)/).flatMap((row) => row.names);
    const missing = documented.filter((name) => !configKeys.includes(name) && !CHART_OWNED.includes(name));
    assert.deepEqual(missing, []);
  });

  it('the ConfigMap template sets every chart-owned variable', () => {
    const template = read('deploy/helm/mcp-server/templates/configmap.yaml');
    for (const owned of CHART_OWNED) assert.match(template, new RegExp(`^\\s+${owned}: `, 'm'), owned);
  });

  it('refuses unknown keys and requires the issuer and the canonical URI', () => {
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.properties.config.additionalProperties, false);
    assert.deepEqual(schema.properties.config.required, ['OAUTH_ISSUER', 'PUBLIC_URL']);
  });

  it('values.yaml names no config key the schema lacks', () => {
    const block = values.slice(values.indexOf('\nconfig:\n'), values.indexOf('\nintrospection:\n'));
    const keys = [...block.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] as string);
    assert.ok(keys.includes('OAUTH_ISSUER') && keys.includes('PUBLIC_URL'), 'values.yaml lists the required keys');
    assert.deepEqual(
      keys.filter((k) => !configKeys.includes(k)),
      [],
    );
  });

  it('the values of docs/deploy.md are ci/docs-example-values.yaml, which CI validates', () => {
    const docs = read('docs/deploy.md');
    const block = /validated in CI\):\n\n```yaml\n([\s\S]*?)```\n/.exec(docs)?.[1];
    assert.ok(block, 'docs/deploy.md shows the example values');
    const file = read('deploy/helm/mcp-server/ci/docs-example-values.yaml');
    assert.equal(file.slice(file.indexOf('\n') + 1), block);
  });
});
