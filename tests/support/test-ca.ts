// A certificate authority made for one test run with the openssl CLI (Node's crypto makes keys but
// not X.509 certificates): global-setup creates it before the test Keycloak starts, the Keycloak
// trusts it (truststore-paths), and a test issues server certificates from it for https servers
// Keycloak must reach (the CIMD test's metadata document). Development-only material: short-lived
// keys in a temporary directory, removed at teardown.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** Environment variable through which global-setup tells the test processes where the CA is. */
export const TEST_CA_DIR_ENV = 'TEST_CA_DIR';

/** A CA on disk: its certificate (PEM, what Keycloak trusts) and private key (PEM, what signs). */
export interface TestCa {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A server certificate issued by the test CA, in PEM, ready for `https.createServer`. */
export interface ServerCertificate {
  readonly cert: string;
  readonly key: string;
}

/** Where a server certificate is valid: DNS names and IP addresses (its subjectAltName). */
export interface CertificateNames {
  readonly dns?: readonly string[];
  readonly ip?: readonly string[];
}

/** Validity of every certificate made here, in days: a run takes minutes; one day absorbs clock skew. */
const VALIDITY_DAYS = '1';

// Extensions per certificate kind; the CA may sign only certificates, the server only serve TLS.
const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = @alt
`;

/** Runs openssl; a missing binary or a failure becomes an error naming the command and its stderr. */
async function openssl(args: string[]): Promise<void> {
  try {
    await promisify(execFile)('openssl', args);
  } catch (error) {
    const { code, stderr } = error as { code?: string | number; stderr?: string };
    if (code === 'ENOENT') throw new Error('openssl not found: the test CA needs the openssl CLI (Debian: openssl)');
    throw new Error(`openssl ${args[0]} failed: ${stderr?.trim() ?? String(error)}`, { cause: error });
  }
}

/** Arguments for a new P-256 key written unencrypted to `keyFile`. */
function newKey(keyFile: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile];
}

/** The openssl configuration with `names` as the subjectAltName section. */
function configWith(names: CertificateNames): string {
  const alt = [
    ...(names.dns ?? []).map((n, i) => `DNS.${i + 1} = ${n}`),
    ...(names.ip ?? []).map((n, i) => `IP.${i + 1} = ${n}`),
  ];
  if (alt.length === 0) throw new TypeError('a server certificate needs at least one DNS name or IP address');
  return `${OPENSSL_CONFIG}[alt]\n${alt.join('\n')}\n`;
}

/** Creates a new CA (P-256 key, self-signed, valid one day) in a fresh 0700 temporary directory. */
export async function createTestCa(): Promise<TestCa> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-test-ca-'));
  const ca: TestCa = { dir, certFile: path.join(dir, 'ca.pem'), keyFile: path.join(dir, 'ca-key.pem') };
  const config = path.join(dir, 'openssl.cnf');
  writeFileSync(config, OPENSSL_CONFIG);
  await openssl([
    'req',
    '-x509',
    '-config',
    config,
    '-extensions',
    'ca',
    ...newKey(ca.keyFile),
    '-subj',
    `/CN=mcp-ws-keycloak test CA ${process.pid}`,
    '-days',
    VALIDITY_DAYS,
    '-out',
    ca.certFile,
  ]);
  // Keycloak's container user reads the certificate from a copy; the key stays the owner's.
  chmodSync(ca.certFile, 0o644);
  return ca;
}

/** The CA global-setup made for this run (from TEST_CA_DIR). @throws Error when the run has none. */
export function testCa(): TestCa {
  const dir = process.env[TEST_CA_DIR_ENV];
  if (!dir) {
    throw new Error(
      `no test CA (${TEST_CA_DIR_ENV} unset): the test Keycloak must be started by tests/support/global-setup.ts, which makes the CA it trusts`,
    );
  }
  return { dir, certFile: path.join(dir, 'ca.pem'), keyFile: path.join(dir, 'ca-key.pem') };
}

/** A random positive serial of 16 octets (RFC 5280 4.1.2.2: unique per CA, at most 20 octets). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

/** Issues a server certificate (P-256, serverAuth, valid one day) for `names`, signed by `ca`. */
export async function issueServerCertificate(ca: TestCa, names: CertificateNames): Promise<ServerCertificate> {
  const work = mkdtempSync(path.join(tmpdir(), 'mcp-test-cert-'));
  try {
    const config = path.join(work, 'openssl.cnf');
    const files = {
      key: path.join(work, 'key.pem'),
      csr: path.join(work, 'csr.pem'),
      cert: path.join(work, 'cert.pem'),
    };
    writeFileSync(config, configWith(names));
    const subject = `/CN=${names.dns?.[0] ?? names.ip?.[0]}`;
    await openssl(['req', '-new', '-config', config, ...newKey(files.key), '-subj', subject, '-out', files.csr]);
    await openssl([
      'x509',
      '-req',
      '-in',
      files.csr,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-set_serial',
      serialNumber(),
      '-days',
      VALIDITY_DAYS,
      '-extfile',
      config,
      '-extensions',
      'server',
      '-out',
      files.cert,
    ]);
    return { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Deletes the CA's directory (its key included). */
export function removeTestCa(ca: TestCa): void {
  rmSync(ca.dir, { recursive: true, force: true });
}
