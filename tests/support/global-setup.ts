// node --test global setup: one Keycloak for the whole integration run, shared by every test file
// through environment variables (child test processes inherit them).
import type { StartedTestContainer } from 'testcontainers';
import { startKeycloakContainer } from './keycloak-container.ts';

let container: StartedTestContainer | undefined;

export async function globalSetup(): Promise<void> {
  if (process.env.MCP_TEST_INTEGRATION !== '1') return;
  // A test Keycloak already running (started with startKeycloakContainer, both variables exported) is
  // reused: repeated local runs of one file skip the 60-90 s start. CI never sets them.
  if (process.env.TEST_KEYCLOAK_URL && process.env.TEST_KEYCLOAK_CONTAINER_ID) {
    console.log(`# reusing the test keycloak at ${process.env.TEST_KEYCLOAK_URL}`);
    return;
  }
  const t0 = Date.now();
  container = await startKeycloakContainer();
  process.env.TEST_KEYCLOAK_URL = `http://localhost:${container.getMappedPort(8080)}`;
  process.env.TEST_KEYCLOAK_CONTAINER_ID = container.getId();
  console.log(`# keycloak ready at ${process.env.TEST_KEYCLOAK_URL} in ${Date.now() - t0} ms`);
}

export async function globalTeardown(): Promise<void> {
  await container?.stop({ timeout: 5_000 });
}
