#!/bin/bash
# Keycloak reads its settings from the environment but has no NAME_FILE convention: for each name
# below, NAME_FILE (a compose secret under /run/secrets) becomes NAME for kc.sh only, so the value
# never appears in the container's configuration (`docker inspect`). Fixed list on purpose: some
# Keycloak options themselves end in _FILE (KC_HTTPS_CERTIFICATE_FILE) and must stay paths.
set -euo pipefail
for name in KC_DB_PASSWORD KC_BOOTSTRAP_ADMIN_PASSWORD OAUTH_CLIENT_SECRET MCP_LISTER_SECRET \
  MCP_INTROSPECTION_SECRET MCP_DEMO_ALICE_PASSWORD MCP_DEMO_BOB_PASSWORD; do
  file_var="${name}_FILE"
  [ -n "${!file_var:-}" ] || continue
  if [ -n "${!name:-}" ]; then
    echo "keycloak: set $name or $file_var, not both" >&2
    exit 1
  fi
  if [ ! -r "${!file_var}" ]; then
    echo "keycloak: $file_var: cannot read ${!file_var}" >&2
    exit 1
  fi
  value=$(<"${!file_var}")
  export "$name=$value"
  unset "$file_var"
done
exec /opt/keycloak/bin/kc.sh "$@"
