#!/usr/bin/env bash
# Development TLS for deploy/compose.production.yaml: a local CA and the load balancer's certificate.
#   bash scripts/dev-certs.sh [dir]        (default deploy/certs)
# Writes ca.crt / ca.key (kept when present, so clients that trust it keep trusting it), lb.crt /
# lb.key (re-issued on every run, valid 90 days) and lb.pem (certificate chain + key, what HAProxy
# reads). Names in the certificate: localhost, 127.0.0.1, ::1, lb (the name the MCP replicas use
# inside the compose network), and PUBLIC_HOST when set. Trust the CA in clients with
# NODE_EXTRA_CA_CERTS=<dir>/ca.crt (Node), curl --cacert, or your system's trust store.
# For anything but development use certificates from your own CA or ACME (docs/deploy.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/deploy/certs}
mkdir -p "$dir"
# The directory keeps the keys from other users of this machine; the files inside stay readable so
# the containers' unprivileged users can read their bind mounts.
chmod 700 "$dir"
umask 022

if [ ! -s "$dir/ca.key" ] || [ ! -s "$dir/ca.crt" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj "/CN=mcp-ws-keycloak development CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  echo "dev-certs: made a CA: $dir/ca.crt"
fi

san="DNS:localhost,IP:127.0.0.1,IP:::1,DNS:lb"
if [ -n "${PUBLIC_HOST:-}" ] && [ "$PUBLIC_HOST" != localhost ]; then
  if [[ $PUBLIC_HOST =~ ^[0-9.]+$ ]]; then san="$san,IP:$PUBLIC_HOST"; else san="$san,DNS:$PUBLIC_HOST"; fi
fi
ext=$(mktemp)
trap 'rm -f "$ext" "$dir/lb.csr"' EXIT
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$san" >"$ext"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=${PUBLIC_HOST:-localhost}" \
  -keyout "$dir/lb.key" -out "$dir/lb.csr" 2>/dev/null
openssl x509 -req -in "$dir/lb.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 90 \
  -extfile "$ext" -out "$dir/lb.crt" 2>/dev/null
cat "$dir/lb.crt" "$dir/ca.crt" "$dir/lb.key" >"$dir/lb.pem"
chmod 600 "$dir/ca.key"
echo "dev-certs: issued $dir/lb.pem for $san (90 days)"
