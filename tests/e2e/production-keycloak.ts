// Keycloak state the failover test changes before a node is lost and checks after: a client secret
// rotated through the admin API, and an admin's user session (its refresh token).
import assert from 'node:assert/strict';

/** Tokens of a password grant (the admin's session in realm master). */
export interface SessionTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
}

async function tokenRequest(url: string, form: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
    signal: AbortSignal.timeout(15_000),
  });
}

function tokenUrl(keycloakUrl: string, realm: string): string {
  return `${keycloakUrl}/realms/${realm}/protocol/openid-connect/token`;
}

/** Signs the bootstrap admin in (admin-cli, password grant): a user session in realm master. */
export async function adminSession(keycloakUrl: string, password: string): Promise<SessionTokens> {
  const res = await tokenRequest(tokenUrl(keycloakUrl, 'master'), {
    grant_type: 'password',
    client_id: 'admin-cli',
    username: 'admin',
    password,
  });
  const text = await res.text();
  assert.equal(res.status, 200, `admin sign-in: ${res.status} ${text}`);
  const body = JSON.parse(text) as { access_token: string; refresh_token: string };
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}

/** Uses the session's refresh token; resolves to the HTTP status (200 while the session lives). */
export async function refreshSession(keycloakUrl: string, session: SessionTokens): Promise<number> {
  const res = await tokenRequest(tokenUrl(keycloakUrl, 'master'), {
    grant_type: 'refresh_token',
    client_id: 'admin-cli',
    refresh_token: session.refreshToken,
  });
  await res.arrayBuffer();
  return res.status;
}

/** Regenerates the secret of client `clientId` in realm mcp; resolves to the new secret. */
export async function rotateClientSecret(keycloakUrl: string, admin: SessionTokens, clientId: string): Promise<string> {
  const auth = { authorization: `Bearer ${admin.accessToken}` };
  const list = await fetch(`${keycloakUrl}/admin/realms/mcp/clients?clientId=${encodeURIComponent(clientId)}`, {
    headers: auth,
  });
  assert.equal(list.status, 200, `client lookup: ${list.status}`);
  const [client] = (await list.json()) as { id: string }[];
  assert.ok(client, `no client ${clientId}`);
  const res = await fetch(`${keycloakUrl}/admin/realms/mcp/clients/${client.id}/client-secret`, {
    method: 'POST',
    headers: auth,
  });
  assert.equal(res.status, 200, `secret rotation: ${res.status}`);
  return ((await res.json()) as { value: string }).value;
}

/** A client-credentials token request in realm mcp; resolves to the HTTP status. */
export async function clientCredentialsStatus(keycloakUrl: string, clientId: string, secret: string): Promise<number> {
  const res = await tokenRequest(tokenUrl(keycloakUrl, 'mcp'), {
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: secret,
  });
  await res.arrayBuffer();
  return res.status;
}
