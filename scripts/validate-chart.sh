#!/usr/bin/env bash
# Validates the Helm chart and the Kubernetes examples offline, no cluster needed:
#   1. helm lint --strict with each deploy/helm/mcp-server/ci/*-values.yaml (values.schema.json included);
#   2. helm template with each of them, every rendered manifest checked by kubeconform -strict against
#      the JSON schemas of Kubernetes 1.30 (the chart's oldest) and 1.37 (unknown or misspelt fields,
#      wrong types, missing required fields);
#   3. the manifests under deploy/kubernetes (Keycloak, KeycloakRealmImport, PostgreSQL) the same way;
#   4. the realm import is in sync with keycloak/realm-export.json.
# Tools, fetched only from package registries and cached (first run: a few minutes, then seconds):
#   helm and kubeconform built from the Go module proxy; the Kubernetes JSON schemas from the PyPI
#   package kubernetes-validate (its schema files only); the CRDs of ServiceMonitor and HTTPRoute
#   from the prometheus-operator and gateway-api Go modules. Keycloak's CRD schemas are in
#   deploy/kubernetes/schemas (the operator's CRDs are published on no registry).
# Usage: bash scripts/validate-chart.sh [--chart DIR] [--manifests DIR] [--tools-only]
#   (no option)      everything above
#   --chart DIR      only this chart (with its ci/*-values.yaml)
#   --manifests DIR  only the manifests in DIR
#   --tools-only     install the tools into the cache and stop
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
# Validated against the oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest
# kubernetes-validate has schemas for (it ships one set per minor release).
KUBERNETES_VERSIONS="1.30.0 1.37.0"
KUBERNETES_VALIDATE_VERSION=1.37.0
PROMETHEUS_OPERATOR_VERSION=v0.85.0
GATEWAY_API_VERSION=v1.6.3

chart=deploy/helm/mcp-server
manifests=deploy/kubernetes
tools_only=false
all=true
while [ $# -gt 0 ]; do
  case "$1" in
    --chart) chart="$2"; manifests=""; all=false; shift 2 ;;
    --manifests) manifests="$2"; chart=""; all=false; shift 2 ;;
    --tools-only) tools_only=true; shift ;;
    *) echo "unknown argument: $1 (usage: $0 [--chart DIR] [--manifests DIR] [--tools-only])" >&2; exit 2 ;;
  esac
done

cache="${MCP_K8S_TOOLS_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/mcp-ws-keycloak/k8s-tools}"
bin="$cache/bin"
crd_schemas="$cache/crd-schemas/prometheus-operator-${PROMETHEUS_OPERATOR_VERSION}-gateway-api-${GATEWAY_API_VERSION}"
mkdir -p "$bin"

go_cmd() {
  if command -v go >/dev/null; then go "$@"
  elif [ -x /usr/local/go/bin/go ]; then /usr/local/go/bin/go "$@"
  else echo "validate-chart: Go is needed to build helm and kubeconform (1.26 or later: helm 3.22 and kubeconform 0.8 need it)" >&2; exit 1
  fi
}

# A tool is rebuilt when its marker (version and link flags) differs: a version bump in this file.
install_go_tool() { # name module version ldflags
  local name="$1" module="$2" version="$3" ldflags="-s -w $4"
  if [ -x "$bin/$name" ] && [ "$(cat "$bin/$name.version" 2>/dev/null)" = "$version $ldflags" ]; then return; fi
  echo "validate-chart: building $name $version from the Go module proxy"
  GOBIN="$bin" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go_cmd install -trimpath -ldflags "$ldflags" "$module@$version"
  echo "$version $ldflags" >"$bin/$name.version"
}

install_kubernetes_schemas() {
  local version missing=() tmp
  # The schemas reference their definitions by absolute path: a moved cache is rebuilt.
  for version in $KUBERNETES_VERSIONS; do
    local dir="$cache/kubernetes-json-schema/v${version}-local-strict"
    grep -qs "file://$dir/_definitions.json" "$dir/deployment-apps-v1.json" || missing+=("$dir")
  done
  if [ ${#missing[@]} -eq 0 ]; then return; fi
  echo "validate-chart: fetching Kubernetes JSON schemas (PyPI kubernetes-validate ${KUBERNETES_VALIDATE_VERSION})"
  tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}"
  # Only the strict schema files; their references point at /api/_definitions.json, which
  # kubeconform's loader cannot resolve: rewrite them to the file next to them.
  python3 - "$tmp"/kubernetes_validate-*.whl "${missing[@]}" <<'PY'
import pathlib, shutil, sys, zipfile
wheel = sys.argv[1]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    for target in map(pathlib.Path, sys.argv[2:]):
        prefix = f"kubernetes_validate/kubernetes-json-schema/{target.name}/"
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        count = 0
        for name in names:
            if name.startswith(prefix) and name.endswith(".json"):
                text = z.read(name).decode()
                text = text.replace('"/api/_definitions.json#', f'"file://{target}/_definitions.json#')
                (partial / name[len(prefix):]).write_text(text)
                count += 1
        if count == 0:
            sys.exit(f"no schemas under {prefix} in {wheel}")
        partial.rename(target)
        print(f"validate-chart: {count} schemas in {target}")
PY
  rm -rf "$tmp"
}

module_dir() { # module@version -> its directory in the Go module cache
  GOFLAGS=-mod=mod go_cmd mod download -json "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])'
}

install_crd_schemas() {
  if [ -f "$crd_schemas/servicemonitor-monitoring-v1.json" ] && [ -f "$crd_schemas/httproute-gateway-v1.json" ]; then return; fi
  echo "validate-chart: CRDs of ServiceMonitor (prometheus-operator ${PROMETHEUS_OPERATOR_VERSION}) and HTTPRoute (gateway-api ${GATEWAY_API_VERSION}), Go modules"
  local prometheus gateway
  prometheus="$(module_dir "github.com/prometheus-operator/prometheus-operator@${PROMETHEUS_OPERATOR_VERSION}")"
  gateway="$(module_dir "sigs.k8s.io/gateway-api@${GATEWAY_API_VERSION}")"
  node scripts/k8s/crd-schema.ts "$crd_schemas" \
    "$prometheus/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
    "$gateway/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml"
}

start=$(date +%s)
# One installer at a time (test files run in parallel may all start here on a cold cache).
exec 9>"$cache/.install.lock"
flock 9
install_go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" "-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
install_go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION" "-X main.version=${KUBECONFORM_VERSION}"
install_kubernetes_schemas
install_crd_schemas
flock -u 9
echo "validate-chart: tools ready in $(($(date +%s) - start))s ($("$bin/helm" version --short), kubeconform $("$bin/kubeconform" -v))"
if $tools_only; then exit 0; fi

kubeconform() { # kubernetes-version files...
  local version="$1"
  shift
  "$bin/kubeconform" -strict -summary -kubernetes-version "$version" \
    -schema-location "$cache/kubernetes-json-schema/{{.NormalizedKubernetesVersion}}-local{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json" \
    -schema-location "$crd_schemas/{{.ResourceKind}}{{.KindSuffix}}.json" \
    -schema-location "deploy/kubernetes/schemas/{{.ResourceKind}}{{.KindSuffix}}.json" \
    "$@"
}

if [ -n "$chart" ]; then
  rendered="$(mktemp -d)"
  trap 'rm -rf "$rendered"' EXIT
  shopt -s nullglob
  values_files=("$chart"/ci/*-values.yaml)
  if [ ${#values_files[@]} -eq 0 ]; then echo "validate-chart: no $chart/ci/*-values.yaml" >&2; exit 1; fi
  for values in "${values_files[@]}"; do
    name="$(basename "$values" .yaml)"
    for version in $KUBERNETES_VERSIONS; do
      echo "::: chart $chart with $name, Kubernetes $version"
      "$bin/helm" lint --strict --quiet --kube-version "$version" -f "$values" "$chart"
      "$bin/helm" template mcp "$chart" --namespace mcp --kube-version "$version" -f "$values" >"$rendered/$name.yaml"
      kubeconform "$version" "$rendered/$name.yaml"
    done
  done
fi
if [ -n "$manifests" ]; then
  for version in $KUBERNETES_VERSIONS; do
    echo "::: manifests in $manifests, Kubernetes $version"
    kubeconform "$version" -ignore-filename-pattern '\.json$' "$manifests"
  done
fi
if $all; then
  echo "::: realm import"
  node scripts/generate-realm-import.ts --check
fi
echo "validate-chart: all valid ($(($(date +%s) - start))s)"
