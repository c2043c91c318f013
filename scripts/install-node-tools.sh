#!/usr/bin/env bash
# Installs what the e2e suite's real node needs (harness/lib/real-node.ts): a kubelet, a container
# runtime, CNI plugins for pod networking, and the images its pods run, built here because no
# registry is reachable:
#   - kubelet (Kubernetes 1.35) from the wrapper module tools/e2e/kubernetes, like the control
#     plane's binaries (scripts/install-e2e-tools.sh), with the same version ldflags;
#   - containerd and runc: Debian's packages, installed with apt-get when missing (needs root);
#   - CNI plugins bridge, host-local, portmap and loopback from the wrapper module tools/node/cni;
#   - prometheus from the wrapper module tools/node/prometheus: the module version promtool comes
#     from (tools/promtool), which must be the chart's default image tag;
#   - images as docker-archive tarballs for `ctr images import` (scripts/lib/image.sh): a pause (pod
#     sandbox) image from images/pause, a Prometheus image named exactly as the chart's default image
#     (DEFAULT_IMAGE_REPOSITORY:DEFAULT_VERSION in src/api/spec.ts), holding /bin/prometheus as
#     entrypoint and an empty /prometheus owned by 65534, so the rendered StatefulSet runs unchanged,
#     and a Metacontroller image named as its release manifests name it, holding the binary
#     scripts/install-e2e-tools.sh builds (run first if that binary is missing), so its release
#     StatefulSet runs unchanged too.
# The go.sum files of the wrapper modules pin (and checksum-verify) every module in the binaries.
#
# Everything lands in a per-user cache outside the checkout, keyed by version:
#   $cache/node/kubernetes-<version>/kubelet, $cache/node/cni-<version>/{bridge,host-local,...},
#   $cache/node/prometheus-<version>/prometheus, $cache/node/pause-<source digest>/pause,
#   $cache/node/images/*.tar
# with $cache/node/bin holding links to them (kubelet, prometheus, cni/) and images.json, which
# names each image and its archive (relative to the bin dir), the sandbox image and the
# Metacontroller image (imported only by the scenarios that install Metacontroller in the cluster).
# The first run builds: measured on 2 cores, after make e2e-tools and make tools (whose Go build
# cache kubelet and prometheus share), kubelet takes about 20 s, prometheus about 2 min, the CNI
# plugins about 35 s, the three images about 3 s, and apt-get about 11 s. Later runs only check that the files
# exist (0.1 s). Bumping a version in a wrapper module's go.mod builds the new one.
#
#   scripts/install-node-tools.sh                  install what is missing, print the bin dir at the end
#   scripts/install-node-tools.sh COMPONENT...     only these (runtime, kubelet, cni, prometheus, images)
#   scripts/install-node-tools.sh --print-bin-dir  print only the bin dir (needs no Go)
#
# Environment:
#   PCC_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/prometheus-cluster-controller)
#   GO             the go command (default: go on PATH, else /usr/local/go/bin/go)
#   E2E_BUILD_P    parallel compilations (go build -p, default 2)
# Go's own module and build caches (go env GOMODCACHE GOCACHE) are used as they are.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/install.sh
source "$root/scripts/lib/install.sh"
# shellcheck source=scripts/lib/image.sh
source "$root/scripts/lib/image.sh"
tools_dir="$cache/node"
bin_dir="$tools_dir/bin"
parse_args runtime kubelet cni prometheus images -- "$@"
cni_plugins=(main/bridge ipam/host-local meta/portmap main/loopback)
# Bump when build_image or what goes into an image changes, so cached archives are rebuilt.
image_revision=2

kubernetes_version="$(module_version tools/e2e/kubernetes k8s.io/kubernetes)"
[[ "$kubernetes_version" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || die "unexpected Kubernetes version $kubernetes_version in tools/e2e/kubernetes/go.mod"
cni_version="$(module_version tools/node/cni github.com/containernetworking/plugins)"
[[ "$cni_version" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || die "unexpected CNI plugins version $cni_version in tools/node/cni/go.mod"

# Prometheus 3.x is published as Go module version v0.3MM.P for release 3.MM.P. The server must be
# the release promtool comes from (the hook validates configurations with it) and the chart's
# default image tag, which the hook renders from src/api/spec.ts.
prometheus_module_version="$(module_version tools/node/prometheus github.com/prometheus/prometheus)"
promtool_module_version="$(module_version tools/promtool github.com/prometheus/prometheus)"
[[ "$prometheus_module_version" == "$promtool_module_version" ]] \
  || die "tools/node/prometheus requires prometheus $prometheus_module_version but tools/promtool $promtool_module_version: keep them the same"
[[ "$prometheus_module_version" =~ ^v0\.3([0-9][0-9])\.([0-9]+)$ ]] \
  || die "unexpected prometheus module version $prometheus_module_version in tools/node/prometheus/go.mod"
prometheus_version="v3.$((10#${BASH_REMATCH[1]})).${BASH_REMATCH[2]}"

spec_const() {
  local v
  v="$(sed -n "s/^export const $1 = '\([^']*\)'\$/\1/p" "$root/src/api/spec.ts")"
  [[ -n "$v" ]] || die "src/api/spec.ts has no line export const $1 = '...'"
  printf '%s\n' "$v"
}
prometheus_image="$(spec_const DEFAULT_IMAGE_REPOSITORY):$(spec_const DEFAULT_VERSION)"
[[ "${prometheus_image##*:}" == "$prometheus_version" ]] \
  || die "the chart's default image is $prometheus_image but tools/node/prometheus builds Prometheus $prometheus_version: keep DEFAULT_VERSION (src/api/spec.ts) and the prometheus module version in step"
values_image="$(awk '$1 == "image:" { print $2; exit }' "$root/charts/prometheus-cluster/values.yaml")"
[[ "$values_image" == "$prometheus_image" ]] \
  || die "charts/prometheus-cluster/values.yaml's image ($values_image) differs from src/api/spec.ts's default ($prometheus_image)"

# The pause program has no version: its cache key is a digest of its source.
pause_key="$(cd "$root/images/pause" && cat go.mod main.go | sha256sum | cut -c1-12)"
pause_image="localhost/prometheus-cluster-controller/pause:$pause_key"

kubelet_path="$tools_dir/kubernetes-$kubernetes_version/kubelet"
cni_dir="$tools_dir/cni-$cni_version"
prometheus_path="$tools_dir/prometheus-$prometheus_version/prometheus"
pause_path="$tools_dir/pause-$pause_key/pause"
images_dir="$tools_dir/images"
pause_archive="$images_dir/pause-$pause_key-r$image_revision.tar"
prometheus_archive="$images_dir/prometheus-$prometheus_version-r$image_revision.tar"

find_go_node() {
  find_go "the e2e suite's real node (kubelet $kubernetes_version, CNI plugins $cni_version, prometheus $prometheus_version)"
}

mkdir -p "$tools_dir"

if wanted runtime; then
  start=$SECONDS
  missing=()
  for c in containerd ctr runc; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
      die "${missing[*]} not found: install Debian's containerd and runc packages (as root: apt-get install -y containerd runc)"
    fi
    log "installing Debian's containerd and runc (${missing[*]} missing)..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq containerd runc >&2
    for c in containerd ctr runc; do command -v "$c" >/dev/null 2>&1 || die "$c is still missing after apt-get install containerd runc"; done
    log "installed containerd and runc in $(elapsed $((SECONDS - start)))"
  fi
  log "  $(containerd --version); $(runc --version | head -n 1)"
fi

if wanted kubelet; then
  if [[ ! -x "$kubelet_path" ]]; then
    find_go_node
    ldflags="$(kubernetes_ldflags "$kubernetes_version")"
    build kubelet "$kubernetes_version" "~20 s after scripts/install-e2e-tools.sh, whose build cache it shares" \
      tools/e2e/kubernetes "$ldflags" k8s.io/kubernetes/cmd/kubelet
    check_version kubelet "Kubernetes $kubernetes_version" --version
    install_binaries "${kubelet_path%/*}" kubelet
  fi
  link kubelet "$kubelet_path"
fi

if wanted cni; then
  if [[ ! -x "$cni_dir/loopback" ]]; then
    find_go_node
    pkgs=()
    for p in "${cni_plugins[@]}"; do pkgs+=("github.com/containernetworking/plugins/plugins/$p"); done
    build cni-plugins "$cni_version" "~35 s" tools/node/cni \
      "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$cni_version" "${pkgs[@]}"
    # CNI_COMMAND=VERSION prints the supported spec versions; `bridge --version`-like flags do not exist.
    for p in "${cni_plugins[@]}"; do
      out="$(CNI_COMMAND=VERSION "$build_tmp/${p#*/}" </dev/null 2>&1)" || die "${p#*/} was built but CNI_COMMAND=VERSION failed: $out"
      [[ "$out" == *cniVersion* ]] || die "${p#*/} was built but CNI_COMMAND=VERSION printed: $out"
    done
    install_binaries "$cni_dir" bridge host-local portmap loopback
    log "  CNI plugins $cni_version: ${cni_plugins[*]#*/}"
  fi
  link cni "$cni_dir"
fi

if wanted prometheus; then
  if [[ ! -x "$prometheus_path" ]]; then
    find_go_node
    build prometheus "$prometheus_version" "~2 min after promtool's build, whose build cache it shares" \
      tools/node/prometheus "-s -w \
      -X github.com/prometheus/common/version.Version=${prometheus_version#v} \
      -X github.com/prometheus/common/version.Revision=$prometheus_module_version \
      -X github.com/prometheus/common/version.Branch=release \
      -X github.com/prometheus/common/version.BuildUser=install-node-tools.sh" \
      github.com/prometheus/prometheus/cmd/prometheus
    check_version prometheus "prometheus, version ${prometheus_version#v} (*" --version
    install_binaries "${prometheus_path%/*}" prometheus
  fi
  link prometheus "$prometheus_path"
fi

if wanted images; then
  [[ -x "$prometheus_path" ]] || die "the Prometheus image needs $prometheus_path: run scripts/install-node-tools.sh prometheus first"
  if [[ ! -x "$pause_path" ]]; then
    find_go_node
    # go build names the binary after the module path's last element: pause.
    build pause "$pause_key" "a few seconds" images/pause "-s -w" .
    install_binaries "${pause_path%/*}" pause
  fi
  mkdir -p "$images_dir"
  if [[ ! -f "$pause_archive" || ! -f "$prometheus_archive" ]]; then
    start=$SECONDS
    log "building the images (first run only, a few seconds)..."
    rootfs="$(mktemp -d "$images_dir/.rootfs.tmp.XXXXXX")"
    tmp_paths+=("$rootfs")
    # The sandbox image: /pause and nothing else.
    mkdir -p "$rootfs/pause-image"
    install -m 0755 "$pause_path" "$rootfs/pause-image/pause"
    build_image "$pause_image" '{"Entrypoint":["/pause"],"User":"65535:65535"}' "$pause_archive" "$rootfs/pause-image"
    # Prometheus as the upstream image runs it: /bin/prometheus, nobody, working directory and
    # volume /prometheus (empty, owned by 65534), the config file's directory under /etc/prometheus.
    p="$rootfs/prometheus-image"
    mkdir -p "$p/bin" "$p/etc/prometheus" "$p/prometheus"
    install -m 0755 "$prometheus_path" "$p/bin/prometheus"
    chown 65534:65534 "$p/prometheus"
    chmod 0755 "$p" "$p/bin" "$p/etc" "$p/etc/prometheus" "$p/prometheus"
    build_image "$prometheus_image" \
      '{"Entrypoint":["/bin/prometheus"],"Cmd":["--config.file=/etc/prometheus/prometheus.yml","--storage.tsdb.path=/prometheus"],"User":"65534","WorkingDir":"/prometheus","ExposedPorts":{"9090/tcp":{}},"Volumes":{"/prometheus":{}}}' \
      "$prometheus_archive" "$p"
    log "built the images in $(elapsed $((SECONDS - start)))"
  fi
  link pause.tar "$pause_archive"
  link prometheus-image.tar "$prometheus_archive"

  # Metacontroller as its release manifests run it (their StatefulSet, unchanged: command
  # /usr/bin/metacontroller, image pulled if not present): the static binary that
  # scripts/install-e2e-tools.sh builds from its source tree, named as those manifests (copied
  # beside the binary) name the image. Like the upstream image (alpine, its Dockerfile) it runs as
  # nonroot, uid and gid 65532; unlike it, it has no shell and no system CA bundle, so a webhook
  # over TLS needs its caBundle (this project's always has one).
  e2e_bin="$("$root/scripts/install-e2e-tools.sh" --print-bin-dir)"
  if [[ ! -x "$e2e_bin/metacontroller" ]]; then
    log "the Metacontroller image needs its binary: scripts/install-e2e-tools.sh metacontroller"
    "$root/scripts/install-e2e-tools.sh" metacontroller >/dev/null
  fi
  metacontroller_path="$(realpath "$e2e_bin/metacontroller")"
  metacontroller_release="${metacontroller_path%/*}/manifests/production/metacontroller.yaml"
  [[ -f "$metacontroller_release" ]] || die "$metacontroller_release is missing: rerun scripts/install-e2e-tools.sh metacontroller"
  metacontroller_image="$(awk '$1 == "image:" { print $2; exit }' "$metacontroller_release")"
  [[ "$metacontroller_image" =~ ^[a-z0-9./-]+/metacontroller:v[0-9]+\.[0-9]+\.[0-9]+$ ]] \
    || die "$metacontroller_release names the image '$metacontroller_image', expected <registry>/metacontroller:vX.Y.Z"
  [[ "${metacontroller_path%/*}" == */metacontroller-"${metacontroller_image##*:}" ]] \
    || die "$metacontroller_release names $metacontroller_image but the binary is ${metacontroller_path}"
  # Keyed by the binary's digest too: a rebuilt binary (same version) makes a new image.
  metacontroller_key="$(sha256sum "$metacontroller_path" | cut -c1-12)"
  metacontroller_archive="$images_dir/metacontroller-${metacontroller_image##*:}-$metacontroller_key-r$image_revision.tar"
  if [[ ! -f "$metacontroller_archive" ]]; then
    start=$SECONDS
    rootfs="$(mktemp -d "$images_dir/.rootfs.tmp.XXXXXX")"
    tmp_paths+=("$rootfs")
    m="$rootfs/metacontroller-image"
    mkdir -p "$m/usr/bin" "$m/etc" "$m/tmp" "$m/home/nonroot"
    install -m 0755 "$metacontroller_path" "$m/usr/bin/metacontroller"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$m/etc/passwd"
    printf 'root:x:0:\nnonroot:x:65532:\n' >"$m/etc/group"
    chmod 0644 "$m/etc/passwd" "$m/etc/group"
    chmod 0755 "$m" "$m/usr" "$m/usr/bin" "$m/etc" "$m/home"
    chmod 1777 "$m/tmp"
    chown 65532:65532 "$m/home/nonroot"
    build_image "$metacontroller_image" \
      '{"Cmd":["/usr/bin/metacontroller"],"User":"65532:65532","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}' \
      "$metacontroller_archive" "$m"
    log "built the Metacontroller image in $(elapsed $((SECONDS - start)))"
  fi
  link metacontroller-image.tar "$metacontroller_archive"

  # images: imported by every real node; metacontrollerImage: only by the scenarios that install
  # Metacontroller in the cluster.
  tmp="$bin_dir/.images.json.tmp.$$"
  tmp_paths+=("$tmp")
  printf '{"sandboxImage":"%s","images":[{"ref":"%s","archive":"pause.tar"},{"ref":"%s","archive":"prometheus-image.tar"}],"metacontrollerImage":{"ref":"%s","archive":"metacontroller-image.tar"}}\n' \
    "$pause_image" "$pause_image" "$prometheus_image" "$metacontroller_image" >"$tmp"
  mv -f "$tmp" "$bin_dir/images.json"
fi

log "ready in $bin_dir: ${components[*]}"
printf '%s\n' "$bin_dir"
