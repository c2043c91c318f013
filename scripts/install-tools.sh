#!/usr/bin/env bash
# Builds the pinned helm and promtool the hook shells out to, from source, through the Go module
# proxy. The versions come from the wrapper modules in tools/helm and tools/promtool; their go.sum
# files pin (and checksum-verify) every module that goes into the binaries.
#
# Binaries land in a per-user cache outside the checkout, keyed by version:
#   $cache/tools/helm-<version>/helm, $cache/tools/promtool-<version>/promtool
# and are symlinked into $cache/bin. The first run builds (a few minutes on 2 cores); later runs
# only check that the files exist. Bumping a version in tools/*/go.mod builds the new one.
#
#   scripts/install-tools.sh                 build what is missing, print the bin dir at the end
#   scripts/install-tools.sh --print-bin-dir print only the bin dir (needs no Go; used by the Makefile)
#
# Environment:
#   PCC_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/prometheus-cluster-controller)
#   GO             the go command (default: go on PATH, else /usr/local/go/bin/go)
# Go's own module and build caches (go env GOMODCACHE GOCACHE) are used as they are.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PCC_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?HOME is not set; set PCC_CACHE_DIR}/.cache}/prometheus-cluster-controller}"
bin_dir="$cache/bin"

log() { printf 'install-tools: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

case "${1:-}" in
  "") ;;
  --print-bin-dir) printf '%s\n' "$bin_dir"; exit 0 ;;
  -h|--help) usage; exit 0 ;;
  *) usage >&2; die "unknown argument: $1" ;;
esac
[[ $# -le 1 ]] || die "expected at most one argument"

# shellcheck source=scripts/lib/go-tools.sh
source "$root/scripts/lib/go-tools.sh"

helm_version="$(module_version tools/helm helm.sh/helm/v3)"
[[ "$helm_version" =~ ^v3\.[0-9]+\.[0-9]+$ ]] || die "unexpected helm version $helm_version in tools/helm/go.mod"

# Prometheus 3.x is published as Go module version v0.3MM.P for release 3.MM.P.
prometheus_module_version="$(module_version tools/promtool github.com/prometheus/prometheus)"
if [[ "$prometheus_module_version" =~ ^v0\.3([0-9][0-9])\.([0-9]+)$ ]]; then
  promtool_version="3.$((10#${BASH_REMATCH[1]})).${BASH_REMATCH[2]}"
else
  die "unexpected prometheus module version $prometheus_module_version in tools/promtool/go.mod"
fi

helm_path="$cache/tools/helm-$helm_version/helm"
promtool_path="$cache/tools/promtool-v$promtool_version/promtool"

tmp_files=()
cleanup() { [[ ${#tmp_files[@]} -eq 0 ]] || rm -f "${tmp_files[@]}"; }
trap cleanup EXIT

# build <name> <version> <estimate> <wrapper module dir> <main package> <dest> <ldflags> <expected> <version command...>
# Builds into a temporary file next to <dest>, checks that the first line the version command prints
# matches the glob <expected>, then renames it into place, so an interrupted or wrong build never
# leaves a binary at <dest>.
build() {
  local name="$1" version="$2" estimate="$3" module_dir="$4" pkg="$5" dest="$6" ldflags="$7" expected="$8"
  shift 8
  local tmp="${dest%/*}/.$name.tmp.$$" start=$SECONDS reported

  mkdir -p "${dest%/*}"
  tmp_files+=("$tmp")
  log "building $name $version (first run only, $estimate)..."
  (
    cd "$root/$module_dir"
    CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
      "$go_cmd" build -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg"
  ) || die "building $name $version failed (see the go output above)"

  reported="$("$tmp" "$@" 2>&1 | head -n 1)" || true
  # shellcheck disable=SC2053 # $expected is a glob on purpose
  [[ "$reported" == $expected ]] \
    || die "$name was built but reports version '$reported', expected $version"
  mv -f "$tmp" "$dest"
  log "built $name $version in $((SECONDS - start))s: $reported"
}

# Links $bin_dir/<name> to <target> (relative, so the cache directory can be moved).
link() {
  local name="$1" target="$2"
  mkdir -p "$bin_dir"
  local rel="../${target#"$cache/"}"
  if [[ "$(readlink "$bin_dir/$name" 2>/dev/null || true)" != "$rel" ]]; then
    ln -sfn "$rel" "$bin_dir/$name"
  fi
}

if [[ ! -x "$helm_path" ]]; then
  find_go "helm $helm_version and promtool $promtool_version"
  # The k8sVersion values are what helm's own Makefile sets for a release: the default
  # Capabilities.KubeVersion of `helm template` (client-go v0.X.Y -> Kubernetes 1.X). Without them
  # helm assumes Kubernetes 1.20. The hook passes --kube-version explicitly anyway.
  client_go="$(cd "$root/tools/helm" && GOFLAGS=-mod=readonly "$go_cmd" list -m -f '{{.Version}}' k8s.io/client-go)"
  [[ "$client_go" =~ ^v0\.([0-9]+)\. ]] || die "unexpected k8s.io/client-go version $client_go in tools/helm"
  k8s_minor="${BASH_REMATCH[1]}"
  build helm "$helm_version" "~1-2 min" tools/helm helm.sh/helm/v3/cmd/helm "$helm_path" "-s -w \
    -X helm.sh/helm/v3/internal/version.version=$helm_version \
    -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor" \
    "$helm_version" version --template '{{.Version}}'
fi
link helm "$helm_path"

if [[ ! -x "$promtool_path" ]]; then
  find_go "helm $helm_version and promtool $promtool_version"
  build promtool "$promtool_version" "~3-4 min" tools/promtool github.com/prometheus/prometheus/cmd/promtool "$promtool_path" "-s -w \
    -X github.com/prometheus/common/version.Version=$promtool_version \
    -X github.com/prometheus/common/version.Revision=$prometheus_module_version \
    -X github.com/prometheus/common/version.BuildUser=install-tools.sh" \
    "promtool, version $promtool_version (*" --version
fi
link promtool "$promtool_path"

log "helm $helm_version and promtool $promtool_version are in $bin_dir"
printf '%s\n' "$bin_dir"
