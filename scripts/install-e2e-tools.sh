#!/usr/bin/env bash
# Builds the real components of the e2e control plane from source: kube-apiserver,
# kube-controller-manager, kube-scheduler and kubectl (Kubernetes 1.35), etcd 3.6 and kwok through
# the Go module proxy (the wrapper modules in tools/e2e/* pin their versions; their go.sum files pin
# and checksum-verify every module that goes into the binaries), and Metacontroller from its own
# source tree (below); prometheus-operator through the Go module proxy too, for the scenario that
# runs it beside this controller.
#
# Binaries land in a per-user cache outside the checkout, keyed by version:
#   $cache/e2e/kubernetes-<version>/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}
#   $cache/e2e/etcd-<version>/etcd, $cache/e2e/kwok-<version>/kwok,
#   $cache/e2e/metacontroller-<version>/metacontroller (+ manifests/production/, its release manifests)
#   $cache/e2e/prometheus-operator-<version>/prometheus-operator (+ crds/, its CRDs)
# and are symlinked into $cache/e2e/bin. The first run builds: on 2 cores with an empty Go build
# cache, Kubernetes takes about 5 minutes and up to ~2 GiB of memory (the linker), etcd about 30 s,
# kwok about 1 minute, Metacontroller about 3 minutes, prometheus-operator about 4 minutes, plus a
# few minutes to download modules. Later runs only check that the files exist. Bumping a version
# in tools/e2e/*/go.mod (Metacontroller's: the ref in deploy/metacontroller/kustomization.yaml)
# builds the new one.
#
# Metacontroller's go.mod names its module `metacontroller`, so the Go module proxy never serves it.
# Its source tree comes from, in this order (the first that exists is used; a check that fails is
# an error, never a reason to try the next):
#   1. $METACONTROLLER_SRC, a checkout of that version;
#   2. ../shared/third_party/metacontroller-<version> beside this repository, whose files must match
#      ../shared/third_party/metacontroller-<version>.sha256 (sha256sum -c);
#   3. git clone --depth 1 --branch <version> https://github.com/metacontroller/metacontroller,
#      which must be the release commit.
# Its dependencies come from the Go module proxy, pinned by its go.sum.
#
#   scripts/install-e2e-tools.sh                  build what is missing, print the bin dir at the end
#   scripts/install-e2e-tools.sh COMPONENT...     only these (kubernetes, etcd, kwok, metacontroller, prometheus-operator)
#   scripts/install-e2e-tools.sh --print-bin-dir  print only the bin dir (needs no Go)
#
# Environment:
#   PCC_CACHE_DIR       cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/prometheus-cluster-controller)
#   GO                  the go command (default: go on PATH, else /usr/local/go/bin/go)
#   E2E_BUILD_P         parallel compilations (go build -p, default 2; each can take ~1 GiB)
#   METACONTROLLER_SRC  Metacontroller's source tree (see above)
# Go's own module and build caches (go env GOMODCACHE GOCACHE) are used as they are.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/install.sh
source "$root/scripts/lib/install.sh"
tools_dir="$cache/e2e"
bin_dir="$tools_dir/bin"
parse_args kubernetes etcd kwok metacontroller prometheus-operator -- "$@"

kubernetes_version="$(module_version tools/e2e/kubernetes k8s.io/kubernetes)"
[[ "$kubernetes_version" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || die "unexpected Kubernetes version $kubernetes_version in tools/e2e/kubernetes/go.mod"
etcd_version="$(module_version tools/e2e/etcd go.etcd.io/etcd/server/v3)"
[[ "$etcd_version" =~ ^v3\.[0-9]+\.[0-9]+$ ]] || die "unexpected etcd version $etcd_version in tools/e2e/etcd/go.mod"
kwok_version="$(module_version tools/e2e/kwok sigs.k8s.io/kwok)"
[[ "$kwok_version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "unexpected kwok version $kwok_version in tools/e2e/kwok/go.mod"
# The Metacontroller release the project installs (deploy/metacontroller/) is the one it tests.
metacontroller_version="$(sed -n 's|^ *- https://github.com/metacontroller/metacontroller/manifests/production?ref=\(v[0-9.]*\)$|\1|p' \
  "$root/deploy/metacontroller/kustomization.yaml")"
[[ "$metacontroller_version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] \
  || die "no Metacontroller release ref (…/manifests/production?ref=vX.Y.Z) in deploy/metacontroller/kustomization.yaml"
# The commit each release tag names, to check a clone against (git ls-remote --tags).
declare -A metacontroller_commits=([v4.17.2]=76b818bdc67ba56570abe5f69f714d56c0ff5c52)

kubernetes_dir="$tools_dir/kubernetes-$kubernetes_version"
kubernetes_commands=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
etcd_path="$tools_dir/etcd-$etcd_version/etcd"
kwok_path="$tools_dir/kwok-$kwok_version/kwok"
metacontroller_dir="$tools_dir/metacontroller-$metacontroller_version"
metacontroller_path="$metacontroller_dir/metacontroller"
metacontroller_manifests="$metacontroller_dir/manifests/production"

find_go_e2e() {
  find_go "the e2e control plane (Kubernetes $kubernetes_version, etcd $etcd_version, kwok $kwok_version, Metacontroller $metacontroller_version)"
}

mkdir -p "$tools_dir"

if wanted kubernetes; then
  missing=0
  for c in "${kubernetes_commands[@]}"; do [[ -x "$kubernetes_dir/$c" ]] || missing=1; done
  if [[ $missing -eq 1 ]]; then
    find_go_e2e
    ldflags="$(kubernetes_ldflags "$kubernetes_version")"
    pkgs=()
    for c in "${kubernetes_commands[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
    build kubernetes "$kubernetes_version" "~5 min and ~2 GiB of memory on 2 cores" \
      tools/e2e/kubernetes "$ldflags" "${pkgs[@]}"
    for c in kube-apiserver kube-controller-manager kube-scheduler; do
      check_version "$c" "Kubernetes $kubernetes_version" --version
    done
    check_version kubectl "Client Version: $kubernetes_version" version --client
    install_binaries "$kubernetes_dir" "${kubernetes_commands[@]}"
  fi
  for c in "${kubernetes_commands[@]}"; do link "$c" "$kubernetes_dir/$c"; done
fi

if wanted etcd; then
  if [[ ! -x "$etcd_path" ]]; then
    find_go_e2e
    build etcd "$etcd_version" "~30 s" tools/e2e/etcd \
      "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd_version" go.etcd.io/etcd/server/v3
    # The main package is the module root: go build names the binary after the path element before
    # the major version suffix, "server".
    mv "$build_tmp/server" "$build_tmp/etcd"
    check_version etcd "etcd Version: ${etcd_version#v}" --version
    install_binaries "${etcd_path%/*}" etcd
  fi
  link etcd "$etcd_path"
fi

# kwok plays the lifecycle of nodes and pods from Stage objects it is given; its module ships the
# ones kwokctl uses. They are written next to the binary as stages.yaml: nodes become Ready and keep
# a lease (so the node lifecycle controller never evicts), pods become Running and Ready at once,
# and deleted pods go away at once.
kwok_stages=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
write_kwok_stages() {
  local dir dest="$1" tmp="$1.tmp.$$" f
  dir="$(cd "$root/tools/e2e/kwok" && "$go_cmd" mod download sigs.k8s.io/kwok && "$go_cmd" list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  [[ -d "$dir/kustomize/stage" ]] || die "kwok's module has no kustomize/stage directory (looked in '$dir')"
  tmp_paths+=("$tmp")
  {
    printf '# kwok %s Stage objects, from the sigs.k8s.io/kwok module (kustomize/stage/*).\n' "$kwok_version"
    for f in "${kwok_stages[@]}"; do
      [[ -f "$dir/kustomize/stage/$f" ]] || die "kwok's module has no kustomize/stage/$f"
      printf -- '---\n# %s\n' "$f"
      cat "$dir/kustomize/stage/$f"
    done
  } >"$tmp"
  mv -f "$tmp" "$dest"
}

if wanted kwok; then
  if [[ ! -x "$kwok_path" ]]; then
    find_go_e2e
    build kwok "$kwok_version" "~1 min" tools/e2e/kwok \
      "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version#v}" sigs.k8s.io/kwok/cmd/kwok
    check_version kwok "*${kwok_version#v}*" --version
    install_binaries "${kwok_path%/*}" kwok
  fi
  if [[ ! -f "${kwok_path%/*}/stages.yaml" ]]; then
    find_go_e2e
    write_kwok_stages "${kwok_path%/*}/stages.yaml"
  fi
  link kwok "$kwok_path"
fi

# metacontroller_source <temp dir>: prints the directory of Metacontroller's source tree to build
# from (see the header), or dies saying how to get one.
metacontroller_source() {
  local tmp="$1" shared="$root/../shared/third_party/metacontroller-$metacontroller_version" commit
  local sums="$shared.sha256" want="${metacontroller_commits[$metacontroller_version]:-}"
  if [[ -n "${METACONTROLLER_SRC:-}" ]]; then
    [[ -f "$METACONTROLLER_SRC/go.mod" && -d "$METACONTROLLER_SRC/pkg/cmd/metacontroller" ]] \
      || die "METACONTROLLER_SRC=$METACONTROLLER_SRC is not a Metacontroller source tree (no go.mod and pkg/cmd/metacontroller)"
    log "Metacontroller source: METACONTROLLER_SRC=$METACONTROLLER_SRC (taken to be $metacontroller_version)"
    printf '%s\n' "$METACONTROLLER_SRC"
  elif [[ -d "$shared" ]]; then
    [[ -f "$sums" ]] || die "$shared has no sha256 list beside it ($sums)"
    # Copy exactly the listed files and check the copy: what is built is what was checked, and an
    # extra file in the shared tree cannot slip into the build.
    local f
    while read -r _ f; do
      [[ "$f" == ./* && "$f" != *..* ]] || die "unexpected path '$f' in $sums"
      mkdir -p "$tmp/src/${f%/*}"
      cp "$shared/$f" "$tmp/src/$f" || die "$shared lacks $f, listed in $sums"
    done <"$sums"
    (cd "$tmp/src" && sha256sum --quiet --strict -c "$sums" >&2) \
      || die "$shared does not match $sums (files above); it is not Metacontroller $metacontroller_version as released"
    log "Metacontroller source: $shared ($(wc -l <"$sums") files, sha256 checked)"
    printf '%s\n' "$tmp/src"
  else
    command -v git >/dev/null 2>&1 || die "no Metacontroller source: set METACONTROLLER_SRC to a checkout of
  $metacontroller_version, put its tree in $shared (with a sha256 list), or install git to clone it"
    [[ -n "$want" ]] || die "no known commit for Metacontroller $metacontroller_version (metacontroller_commits in ${BASH_SOURCE[0]})"
    log "Metacontroller source: cloning https://github.com/metacontroller/metacontroller at $metacontroller_version"
    git clone --quiet --depth 1 --branch "$metacontroller_version" https://github.com/metacontroller/metacontroller "$tmp/src" >&2 \
      || die "could not clone Metacontroller $metacontroller_version (no network?). Set METACONTROLLER_SRC to a
  checkout of it, or put its tree in $shared with a sha256 list"
    commit="$(git -C "$tmp/src" rev-parse HEAD)"
    [[ "$commit" == "$want" ]] || die "the clone's $metacontroller_version is commit $commit, expected $want"
    printf '%s\n' "$tmp/src"
  fi
}

if wanted metacontroller; then
  if [[ ! -x "$metacontroller_path" || ! -f "$metacontroller_manifests/metacontroller-crds-v1.yaml" ]]; then
    find_go_e2e
    src_tmp="$(mktemp -d "$tools_dir/.metacontroller-src.tmp.XXXXXX")"
    tmp_paths+=("$src_tmp")
    src="$(metacontroller_source "$src_tmp")"
    [[ -f "$src/manifests/production/metacontroller-crds-v1.yaml" ]] \
      || die "$src has no manifests/production/metacontroller-crds-v1.yaml"
    build metacontroller "$metacontroller_version" "~3 min" "$src" \
      "-s -w -X main.version=$metacontroller_version" ./pkg/cmd/metacontroller
    # It has no --version: it logs its version first, then fails on the kubeconfig that is not there.
    check_version metacontroller "*Configuration information*version*$metacontroller_version*" \
      --kubeconfig="$build_tmp/no-such-kubeconfig" --metrics-address=0 --health-probe-bind-address=0
    # Its release manifests (CRDs, RBAC, StatefulSet) from the same tree: the harness installs the
    # CRDs and reads the release's args; the deploy/metacontroller/ test renders over them.
    rm -rf "$metacontroller_dir/manifests"
    mkdir -p "$metacontroller_manifests"
    cp "$src"/manifests/production/*.yaml "$metacontroller_manifests/"
    chmod u+w "$metacontroller_manifests"/*.yaml
    install_binaries "$metacontroller_dir" metacontroller
  fi
  link metacontroller "$metacontroller_path"
fi

# prometheus-operator, only for the scenario that runs it beside this controller: its operator
# command and the CRDs it serves (the module's example/prometheus-operator-crd), copied beside it.
prometheus_operator_version="$(module_version tools/e2e/prometheus-operator github.com/prometheus-operator/prometheus-operator)"
[[ "$prometheus_operator_version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] \
  || die "unexpected prometheus-operator version $prometheus_operator_version in tools/e2e/prometheus-operator/go.mod"
prometheus_operator_dir="$tools_dir/prometheus-operator-$prometheus_operator_version"
if wanted prometheus-operator; then
  if [[ ! -x "$prometheus_operator_dir/prometheus-operator" || ! -f "$prometheus_operator_dir/crds/monitoring.coreos.com_prometheuses.yaml" ]]; then
    find_go "prometheus-operator $prometheus_operator_version"
    po_module=github.com/prometheus-operator/prometheus-operator
    po_src="$(cd "$root/tools/e2e/prometheus-operator" && "$go_cmd" mod download "$po_module" && "$go_cmd" list -m -f '{{.Dir}}' "$po_module")"
    [[ -f "$po_src/example/prometheus-operator-crd/monitoring.coreos.com_prometheuses.yaml" ]] \
      || die "prometheus-operator's module has no example/prometheus-operator-crd/monitoring.coreos.com_prometheuses.yaml (looked in '$po_src')"
    # What its Makefile sets: the version names the config-reloader image the operator puts in its pods.
    po_date="$(cd "$root/tools/e2e/prometheus-operator" && "$go_cmd" list -m -f '{{.Time.UTC.Format "20060102-15:04:05"}}' "$po_module")"
    build prometheus-operator "$prometheus_operator_version" "~4 min" tools/e2e/prometheus-operator \
      "-s -w -X github.com/prometheus/common/version.Version=${prometheus_operator_version#v} -X github.com/prometheus/common/version.BuildDate=$po_date" \
      "$po_module/cmd/operator"
    mv "$build_tmp/operator" "$build_tmp/prometheus-operator"
    check_version prometheus-operator "prometheus-operator, version ${prometheus_operator_version#v} *" --version
    rm -rf "$prometheus_operator_dir/crds"
    mkdir -p "$prometheus_operator_dir/crds"
    cp "$po_src"/example/prometheus-operator-crd/*.yaml "$prometheus_operator_dir/crds/"
    chmod u+w "$prometheus_operator_dir"/crds/*.yaml
    install_binaries "$prometheus_operator_dir" prometheus-operator
  fi
  link prometheus-operator "$prometheus_operator_dir/prometheus-operator"
fi

log "ready in $bin_dir: ${components[*]}"
printf '%s\n' "$bin_dir"
