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
#   scripts/install-tools.sh                  build what is missing, print the bin dir at the end
#   scripts/install-tools.sh COMPONENT...     only these (helm, promtool)
#   scripts/install-tools.sh --print-bin-dir  print only the bin dir (needs no Go; used by the Makefile)
#
# Environment:
#   PCC_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/prometheus-cluster-controller)
#   GO             the go command (default: go on PATH, else /usr/local/go/bin/go)
# Go's own module and build caches (go env GOMODCACHE GOCACHE) are used as they are.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/install.sh
source "$root/scripts/lib/install.sh"
tools_dir="$cache/tools"
bin_dir="$cache/bin"
parse_args helm promtool -- "$@"

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

if wanted helm && [[ ! -x "$helm_path" ]]; then
  find_go "helm $helm_version and promtool $promtool_version"
  # The k8sVersion values are what helm's own Makefile sets for a release: the default
  # Capabilities.KubeVersion of `helm template` (client-go v0.X.Y -> Kubernetes 1.X). Without them
  # helm assumes Kubernetes 1.20. The hook passes --kube-version explicitly anyway.
  client_go="$(cd "$root/tools/helm" && GOFLAGS=-mod=readonly "$go_cmd" list -m -f '{{.Version}}' k8s.io/client-go)"
  [[ "$client_go" =~ ^v0\.([0-9]+)\. ]] || die "unexpected k8s.io/client-go version $client_go in tools/helm"
  k8s_minor="${BASH_REMATCH[1]}"
  build helm "$helm_version" "~1-2 min" tools/helm "-s -w \
    -X helm.sh/helm/v3/internal/version.version=$helm_version \
    -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor" helm.sh/helm/v3/cmd/helm
  check_version helm "$helm_version" version --template '{{.Version}}'
  install_binaries "${helm_path%/*}" helm
fi
wanted helm && link helm "$helm_path"

if wanted promtool && [[ ! -x "$promtool_path" ]]; then
  find_go "helm $helm_version and promtool $promtool_version"
  build promtool "$promtool_version" "~3-4 min" tools/promtool "-s -w \
    -X github.com/prometheus/common/version.Version=$promtool_version \
    -X github.com/prometheus/common/version.Revision=$prometheus_module_version \
    -X github.com/prometheus/common/version.BuildUser=install-tools.sh" github.com/prometheus/prometheus/cmd/promtool
  check_version promtool "promtool, version $promtool_version (*" --version
  install_binaries "${promtool_path%/*}" promtool
fi
wanted promtool && link promtool "$promtool_path"

log "ready in $bin_dir: ${components[*]} (helm $helm_version, promtool $promtool_version)"
printf '%s\n' "$bin_dir"
