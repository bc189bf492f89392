// node --test global setup: one Keycloak for the whole integration run, shared by every test file
// through environment variables (child test processes inherit them): its URL and container, and the
// test CA it trusts for outgoing https (tests/support/test-ca.ts).
import type { StartedTestContainer } from 'testcontainers';
import { startKeycloakContainer } from './keycloak-container.ts';
import { createTestCa, removeTestCa, TEST_CA_DIR_ENV, type TestCa } from './test-ca.ts';

let container: StartedTestContainer | undefined;
let ca: TestCa | undefined;

export async function globalSetup(): Promise<void> {
  if (process.env.MCP_TEST_INTEGRATION !== '1') return;
  // A test Keycloak already running (both variables exported; tests/support/start-test-keycloak.ts
  // starts one and prints them) is reused: repeated local runs of one file skip the 60-90 s start.
  // CI never sets them. Tests that need the trusted test CA (CIMD) need its TEST_CA_DIR exported
  // too (the script prints it), and fail saying so without it.
  if (process.env.TEST_KEYCLOAK_URL && process.env.TEST_KEYCLOAK_CONTAINER_ID) {
    const trust = process.env[TEST_CA_DIR_ENV] ? `, trusting the CA in ${process.env[TEST_CA_DIR_ENV]}` : '';
    console.log(`# reusing the test keycloak at ${process.env.TEST_KEYCLOAK_URL}${trust}`);
    return;
  }
  const t0 = Date.now();
  // Made before the container: Keycloak reads its trust store once, at start.
  ca = await createTestCa();
  container = await startKeycloakContainer({ trustedCaFile: ca.certFile });
  process.env.TEST_KEYCLOAK_URL = `http://localhost:${container.getMappedPort(8080)}`;
  process.env.TEST_KEYCLOAK_CONTAINER_ID = container.getId();
  process.env[TEST_CA_DIR_ENV] = ca.dir;
  console.log(`# keycloak ready at ${process.env.TEST_KEYCLOAK_URL} in ${Date.now() - t0} ms`);
}

export async function globalTeardown(): Promise<void> {
  await container?.stop({ timeout: 5_000 });
  if (ca) removeTestCa(ca);
}
