// Starts a test Keycloak the way global-setup does (the repository's realm, the run's test CA in its
// trust store) and leaves it running, for repeated local runs of single integration test files:
//
//   KEYCLOAK_IMAGE=local/keycloak:26.7.3 node --conditions=development tests/support/start-test-keycloak.ts > /tmp/kc.env
//   source /tmp/kc.env && MCP_TEST_INTEGRATION=1 node --conditions=development --test \
//     --test-global-setup=tests/support/global-setup.ts tests/integration/interactive-cimd.test.ts
//
// Prints the `export` line global-setup reuses (TEST_KEYCLOAK_URL, TEST_KEYCLOAK_CONTAINER_ID,
// TEST_CA_DIR) on stdout, and how to remove both on stderr.
import { startKeycloakContainer } from './keycloak-container.ts';
import { createTestCa, TEST_CA_DIR_ENV } from './test-ca.ts';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';

const t0 = Date.now();
const ca = await createTestCa();
const container = await startKeycloakContainer({ trustedCaFile: ca.certFile });
const url = `http://localhost:${container.getMappedPort(8080)}`;
console.log(
  `export TEST_KEYCLOAK_URL=${url} TEST_KEYCLOAK_CONTAINER_ID=${container.getId()} ${TEST_CA_DIR_ENV}=${ca.dir}`,
);
console.error(`# keycloak ready at ${url} in ${Date.now() - t0} ms`);
console.error(
  `# remove with: docker stop ${container.getId().slice(0, 12)} && docker rm ${container.getId().slice(0, 12)} && rm -r ${ca.dir}`,
);
// testcontainers keeps handles open; the container outlives this process (no Ryuk).
process.exit(0);
