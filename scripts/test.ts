// Runs the test suites with node:test: `node scripts/test.ts [unit|integration|e2e ...]` (default: all).
// Integration and e2e suites need Docker (a real Keycloak through testcontainers). Under CI=true a
// missing Docker is a failure; elsewhere those suites are skipped with one line saying how to enable them.
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const SUITES = ['unit', 'integration', 'e2e'] as const;
type Suite = (typeof SUITES)[number];

const asked = process.argv.slice(2) as Suite[];
for (const s of asked) {
  if (!SUITES.includes(s)) {
    console.error(`unknown suite "${s}"; use one of: ${SUITES.join(', ')}`);
    process.exit(2);
  }
}
let suites: Suite[] = asked.length > 0 ? asked : [...SUITES];

const needsDocker = suites.some((s) => s !== 'unit');
if (needsDocker && spawnSync('docker', ['info'], { stdio: 'ignore' }).status !== 0) {
  if (process.env.CI === 'true') {
    console.error(
      'Docker is not available, and CI=true requires the integration tests: start a Docker engine (see .ci/run).',
    );
    process.exit(1);
  }
  console.log(
    '# skipping integration and e2e tests: Docker is not available (start a Docker engine, then run `npm test` again)',
  );
  suites = suites.filter((s) => s === 'unit');
}

const files = suites.flatMap((s) => globSync(`tests/${s}/**/*.test.ts`)).sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const integration = suites.some((s) => s !== 'unit');
const env = {
  ...process.env,
  MCP_TEST_INTEGRATION: integration ? '1' : '0',
  // No registry here for testcontainers' helper images: no Ryuk, and the host is known.
  TESTCONTAINERS_RYUK_DISABLED: process.env.TESTCONTAINERS_RYUK_DISABLED ?? 'true',
  TESTCONTAINERS_HOST_OVERRIDE: process.env.TESTCONTAINERS_HOST_OVERRIDE ?? 'localhost',
};
const args = [
  '--conditions=development',
  '--test',
  '--test-global-setup=tests/support/global-setup.ts',
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '2'}`,
  '--test-timeout=300000',
  ...(process.env.TEST_REPORTER ? [`--test-reporter=${process.env.TEST_REPORTER}`] : []),
  ...files,
];
const result = spawnSync(process.execPath, args, { stdio: 'inherit', env });
process.exit(result.status ?? 1);
