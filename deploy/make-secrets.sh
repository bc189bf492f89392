#!/usr/bin/env bash
# Secrets of deploy/compose.production.yaml, one random value per file (compose `secrets:`):
#   bash deploy/make-secrets.sh [dir]      (default deploy/secrets)
# A file that exists is kept (rotating a value is a Keycloak operation: docs/deploy.md). The values
# seed Keycloak on its first start only (the realm import); later the database is the truth.
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")" && pwd)/secrets}
mkdir -p "$dir"
# The directory keeps the values from other users of this machine; the files stay readable so the
# containers' unprivileged users (postgres, keycloak, node) can read their bind mounts.
chmod 700 "$dir"
umask 022
made=""
for name in postgres-password keycloak-admin-password oauth-client-secret mcp-lister-secret \
  mcp-introspection-secret alice-password bob-password; do
  [ -s "$dir/$name" ] && continue
  # 32 random bytes, URL-safe base64 without padding (43 characters): fine in a JSON string and a URL.
  openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n' >"$dir/$name"
  made="$made $name"
done
if [ -n "$made" ]; then echo "make-secrets: made$made in $dir"; else echo "make-secrets: every secret in $dir exists, kept"; fi
