import { fileURLToPath } from 'node:url';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { readVersions } from './versions.ts';

/** Realm, clients and admin credentials the test Keycloak is started with (dev-only values). */
export const TEST_REALM = 'mcp';
export const TEST_ADMIN = { clientId: 'test-admin', clientSecret: 'test-admin-secret' } as const;
export const TEST_CLIENTS = {
  full: { clientId: 'mcp-client', clientSecret: 'mcp-client-secret' },
  lister: { clientId: 'mcp-lister', clientSecret: 'mcp-lister-secret' },
} as const;

/**
 * The MCP server's canonical URI the realm registers by default (client mcp-server's resource_url):
 * a token requested with `resource` = this gets `aud` = this.
 */
export const TEST_RESOURCE = 'http://localhost:3000/mcp';

const realmFile = fileURLToPath(new URL('../../keycloak/realm-export.json', import.meta.url));

/** The image to run: `KEYCLOAK_IMAGE` from the environment (e.g. a local stand-in), else the pinned official image in `.env`. */
export function keycloakImage(): string {
  return process.env.KEYCLOAK_IMAGE ?? (readVersions().KEYCLOAK_IMAGE as string);
}

export interface KeycloakContainerOptions {
  /** Host port for 8080; random when omitted. A fixed port survives a container stop/start. */
  hostPort?: number;
  /** Extra environment for Keycloak (e.g. secrets substituted into the realm import). */
  env?: Record<string, string>;
  /**
   * A PEM CA certificate Keycloak trusts for its outgoing https besides the JVM's (`truststore-paths`,
   * a runtime option): the run's test CA, so Keycloak can fetch a test's https metadata document.
   */
  trustedCaFile?: string;
}

/**
 * The name the test Keycloak resolves to the Docker host (Docker's `host-gateway`, the default
 * bridge's gateway address): where tests serve what Keycloak must fetch, such as CIMD documents.
 */
export const DOCKER_HOST_NAME = 'host.docker.internal';

/** Where the trusted CA certificate is copied in the container. */
const TRUSTED_CA_PATH = '/opt/keycloak/conf/test-ca.pem';

/**
 * Dev mode re-augments Keycloak at every start (the experimental features make it a full build):
 * ~60-90 s on an idle 2-core machine (47 s at load 4-7), measured 196 s with the load average at 14
 * and 368 s at 23-28. The trust store (trustedCaFile) adds nothing measurable.
 */
const STARTUP_TIMEOUT_MS = 480_000;

/**
 * Starts Keycloak in dev mode with the repository's realm imported and a bootstrap admin service
 * account, and waits until `/health/ready` answers (at most STARTUP_TIMEOUT_MS).
 */
export async function startKeycloakContainer(options: KeycloakContainerOptions = {}): Promise<StartedTestContainer> {
  // resource-indicators (RFC 8707, experimental in 26.7): resource=<resource_url of client mcp-server>
  // narrows aud to that URI; any other resource is refused with invalid_target. cimd (experimental):
  // client ID metadata documents, for the realm's MCP host policy (docs/interactive-login.md).
  const files = [{ source: realmFile, target: '/opt/keycloak/data/import/realm-export.json' }];
  if (options.trustedCaFile) files.push({ source: options.trustedCaFile, target: TRUSTED_CA_PATH });
  return new GenericContainer(keycloakImage())
    .withCommand(['start-dev', '--import-realm', '--features=resource-indicators,cimd'])
    .withEnvironment({
      KC_BOOTSTRAP_ADMIN_CLIENT_ID: TEST_ADMIN.clientId,
      KC_BOOTSTRAP_ADMIN_CLIENT_SECRET: TEST_ADMIN.clientSecret,
      KC_HEALTH_ENABLED: 'true',
      // dev mode listens on localhost only; the container must answer on its bridge address
      KC_HTTP_HOST: '0.0.0.0',
      KC_LOG_LEVEL: 'warn',
      ...(options.trustedCaFile ? { KC_TRUSTSTORE_PATHS: TRUSTED_CA_PATH } : {}),
      ...options.env,
    })
    .withCopyFilesToContainer(files)
    .withExtraHosts([{ host: DOCKER_HOST_NAME, ipAddress: 'host-gateway' }])
    .withExposedPorts(options.hostPort ? { container: 8080, host: options.hostPort } : 8080, 9000)
    .withWaitStrategy(Wait.forHttp('/health/ready', 9000).forStatusCode(200))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .withLabels({ 'org.mcp-ws-keycloak.test': 'true' })
    .start();
}
