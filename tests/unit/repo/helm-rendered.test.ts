// What the chart renders matches what the server does: the ConfigMap is a configuration the server's
// own loadConfig accepts (every ci values file), probes hit /readyz and /healthz on the port it listens
// on, the pod is confined (non-root, read-only, no capabilities or token) and drains on rollout, and
// the NetworkPolicy admits only the ingress controller and lets the pod reach only Keycloak and DNS.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { loadConfig } from '../../../mcp-server/src/config.ts';
import { chart, type Doc, helm, installTools, render, run, TOOL_INSTALL_MS } from './helm-tools.ts';

before(installTools, { timeout: TOOL_INSTALL_MS });

describe('the rendered ConfigMap', () => {
  for (const values of readdirSync(join(chart, 'ci')).filter((f) => f.endsWith('-values.yaml'))) {
    it(`is a configuration the server accepts (${values})`, async () => {
      const docs = await render(join(chart, 'ci', values));
      const env = docs.find((d) => d.kind === 'ConfigMap')?.data ?? {};
      const config = loadConfig(env);
      assert.equal(config.host, '0.0.0.0');
      assert.equal(config.targetDir, '/data');
      assert.equal(config.publicUrl, env.PUBLIC_URL);
      assert.equal(config.oauthIssuer, env.OAUTH_ISSUER);
      if (env.INTROSPECTION_CLIENT_SECRET_FILE) assert.equal(config.introspectionClientId, env.PUBLIC_URL);
      if (env.METRICS_PORT) assert.notEqual(config.metricsPort, config.port);
    });
  }
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
