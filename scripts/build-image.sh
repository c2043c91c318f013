#!/usr/bin/env bash
# Builds the hook's image without a container engine: the image the Dockerfile describes, written
# as a docker-archive (what `docker save` writes; load it with `docker load -i`, push it with
# `skopeo copy docker-archive:FILE docker://IMAGE`, or import it into containerd with
# `ctr -n k8s.io images import FILE`). `make image` runs it where no Docker engine answers.
#
# Two layers:
#   1. the base: Debian <suite> (the suite of the Dockerfile's final FROM, node:<major>-<suite>-slim)
#      made by mmdebstrap --variant=minbase from Debian's mirrors, without docs, man pages and
#      locales, like Debian's slim images (installed with apt-get when missing; needs root, or
#      unprivileged user namespaces);
#   2. the hook: the Node.js of .nvmrc (scripts/install-nodejs.sh) as /usr/local/bin/node, where the
#      node image keeps it; then what the final stage COPYs: package.json, the production
#      node_modules (npm ci --omit=dev in a staging directory), dist/ (tsc -p tsconfig.build.json
#      beside a copy of src/),
#      charts/prometheus-cluster, and helm and promtool (scripts/install-tools.sh, the build the
#      Dockerfile's tools stage runs too). Everything root-owned.
# USER, ENV, WORKDIR, EXPOSE and CMD are read from the Dockerfile's final stage
# (scripts/image-config.ts), which owns them; a final stage this script cannot follow (a RUN, a COPY
# to a path it does not know) stops the build. Differences from `docker build`: no npm, yarn or
# docker-entrypoint.sh (the Dockerfile's CMD runs node directly either way), and a Debian base made
# today rather than the one in node's image.
#
# Cached in $cache/images: the base as base/debian-<suite>-minbase-<digest of its inputs>.tar, each
# hook image as hook/<digest of every input: sources, lock file, charts, Dockerfile, Node, helm,
# promtool, base, reference>.tar (the three newest are kept). Measured on 2 shared cores: the base
# 55-100 s cold (downloads included), a hook image 12-30 s, an unchanged one under a second. Two
# builds from two empty caches gave the same bytes.
#
#   scripts/build-image.sh [--output FILE] IMAGE   build IMAGE (e.g. registry.example.com/prometheus-cluster-controller:0.1.0),
#                                                  copy (or hard-link) it to FILE; prints the archive's path
#   scripts/build-image.sh --base                  only the base (make e2e builds it ahead); prints its path
#
# Environment:
#   PCC_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/prometheus-cluster-controller)
#   DEBIAN_MIRROR  Debian mirror (default http://deb.debian.org/debian; security updates from
#                  ${DEBIAN_MIRROR%/debian}/debian-security)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/install.sh
source "$root/scripts/lib/install.sh"
# shellcheck source=scripts/lib/image.sh
source "$root/scripts/lib/image.sh"
tools_dir="$cache/images"
# Bump when what goes into the images changes in a way their keys do not see.
base_revision=1
image_revision=1

output=""
ref=""
base_only=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --output) [[ $# -ge 2 ]] || die "--output needs a file"; output="$2"; shift 2 ;;
    --output=*) output="${1#--output=}"; shift ;;
    --base) base_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) [[ -z "$ref" ]] || die "one IMAGE only (got $ref and $1)"; ref="$1"; shift ;;
  esac
done
if [[ $base_only -eq 0 ]]; then
  [[ -n "$ref" ]] || { usage >&2; die "name the image, e.g. scripts/build-image.sh prometheus-cluster-controller:0.1.0"; }
  [[ "$ref" =~ ^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] \
    || die "'$ref' is not an image reference with a tag (name:tag)"
fi

# --- what the Dockerfile says: its final stage's base, settings and paths (scripts/image-config.ts).
tsx="$root/node_modules/.bin/tsx"
[[ -x "$tsx" ]] || die "$tsx is missing: install the npm packages first (make dependencies, or npm ci)"
node_bin="$("$root/scripts/install-nodejs.sh")"
node_version="$(tr -d '[:space:]' <"$root/.nvmrc")"
image_config() { PATH="$node_bin:$PATH" "$tsx" "$root/scripts/image-config.ts" "$root/Dockerfile" "$@"; }
from="$(image_config from)" || die "could not read the Dockerfile's final stage (above)"
[[ "$from" =~ ^node:([0-9]+)(\.[0-9]+\.[0-9]+)?-([a-z]+)-slim$ ]] \
  || die "the Dockerfile's final stage is FROM $from; this build follows node:<version>-<debian suite>-slim only"
suite="${BASH_REMATCH[3]}"
[[ "${BASH_REMATCH[1]}${BASH_REMATCH[2]}" == "$node_version" || ( -z "${BASH_REMATCH[2]}" && "${BASH_REMATCH[1]}" == "${node_version%%.*}" ) ]] \
  || die "the Dockerfile's final stage is FROM $from but .nvmrc pins Node $node_version"

# --- the base: mmdebstrap, cached by its inputs.
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
sources=("deb $mirror $suite main" "deb $mirror $suite-updates main" "deb ${mirror%/debian}/debian-security $suite-security main")
# What Debian's slim images leave out (debuerreotype's slimify), kept out as dpkg unpacks.
dpkg_opts=()
for p in doc info linda lintian/overrides locale man groff; do
  dpkg_opts+=("--dpkgopt=path-exclude=/usr/share/$p/*")
done
dpkg_opts+=("--dpkgopt=path-include=/usr/share/doc/*/copyright")
base_key="$(printf '%s\n' "r$base_revision" "$suite" minbase amd64 "${sources[@]}" "${dpkg_opts[@]}" | sha256sum | cut -c1-16)"
base_tar="$tools_dir/base/debian-$suite-minbase-$base_key.tar"

if [[ ! -f "$base_tar" ]]; then
  start=$SECONDS
  if ! command -v mmdebstrap >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
      die "mmdebstrap not found: install Debian's mmdebstrap package (as root: apt-get install -y mmdebstrap)"
    fi
    log "installing Debian's mmdebstrap..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
    command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is still missing after apt-get install mmdebstrap"
  fi
  mode=unshare
  [[ $(id -u) -ne 0 ]] || mode=root
  mkdir -p "${base_tar%/*}"
  tmp_dir="$(mktemp -d "${base_tar%/*}/.base.tmp.XXXXXX")"
  tmp_paths+=("$tmp_dir")
  tmp="$tmp_dir/base.tar"
  log "making the Debian $suite base with $(mmdebstrap --version) (first run only, about 70 s)..."
  # SOURCE_DATE_EPOCH: fixed timestamps, so the same packages give the same bytes.
  SOURCE_DATE_EPOCH=0 mmdebstrap --quiet --mode="$mode" --variant=minbase --format=tar --architectures=amd64 \
    "${dpkg_opts[@]}" "$suite" "$tmp" "${sources[@]}" >&2 \
    || die "mmdebstrap failed (output above) after $(elapsed $((SECONDS - start)))"
  # /dev stays an empty directory: the runtime mounts its own.
  tar --delete --wildcards -f "$tmp" './dev/?*'
  mv -f "$tmp" "$base_tar"
  log "made $base_tar ($(du -h "$base_tar" | cut -f1)) in $(elapsed $((SECONDS - start)))"
fi
if [[ $base_only -eq 1 ]]; then
  printf '%s\n' "$base_tar"
  exit 0
fi

# --- the hook image, cached by the digest of everything that goes into it.
tools_bin="$("$root/scripts/install-tools.sh")"
helm="$(realpath "$tools_bin/helm")"
promtool="$(realpath "$tools_bin/promtool")"
inputs=(Dockerfile package.json package-lock.json tsconfig.json tsconfig.build.json scripts/build-image.sh scripts/image-config.ts scripts/lib/image.sh)
key="$(
  {
    printf '%s\n' "r$image_revision" "$ref" "$base_tar" "node $node_version" "$helm" "$promtool"
    (cd "$root" && find "${inputs[@]}" src charts/prometheus-cluster -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
)"
name="${ref##*/}"
archive="$tools_dir/hook/${name//:/-}-$key.tar"

if [[ -f "$archive" ]]; then
  log "$ref is built already (inputs unchanged): $archive"
else
  start=$SECONDS
  log "building $ref..."
  mkdir -p "${archive%/*}"
  work="$(mktemp -d "${archive%/*}/.hook.tmp.XXXXXX")"
  tmp_paths+=("$work")
  stage="$work/rootfs"
  mkdir -p "$stage/app" "$stage/usr/local/bin"
  install -m 0755 "$node_bin/node" "$stage/usr/local/bin/node"
  # Each path the final stage COPYs, from where this build has it.
  while read -r path; do
    case "$path" in
      /app/package.json) install -m 0644 "$root/package.json" "$stage$path" ;;
      /app/dist)
        # Compiled beside a copy of src/, as the Dockerfile's build stage does in /app, so that the
        # source maps name ../src/... there too and the layer does not depend on where it was built.
        mkdir -p "$work/build"
        cp -R "$root/src" "$root/tsconfig.json" "$root/tsconfig.build.json" "$root/package.json" "$work/build/"
        ln -s "$root/node_modules" "$work/build/node_modules"
        (cd "$work/build" && PATH="$node_bin:$PATH" node_modules/.bin/tsc -p tsconfig.build.json) \
          || die "tsc -p tsconfig.build.json failed (above)"
        mv "$work/build/dist" "$stage$path"
        ;;
      /app/node_modules)
        cp "$root/package.json" "$root/package-lock.json" "$work/"
        (cd "$work" && PATH="$node_bin:$PATH" npm ci --omit=dev --no-audit --no-fund --loglevel=error >&2) \
          || die "npm ci --omit=dev failed (above)"
        mv "$work/node_modules" "$stage$path"
        ;;
      /app/charts/prometheus-cluster)
        mkdir -p "${stage}${path%/*}"
        cp -R "$root/charts/prometheus-cluster" "$stage$path"
        ;;
      /usr/local/bin/helm) install -m 0755 "$helm" "$stage$path" ;;
      /usr/local/bin/promtool) install -m 0755 "$promtool" "$stage$path" ;;
      *) die "the Dockerfile's final stage COPYs $path, which scripts/build-image.sh does not know how to fill: teach it" ;;
    esac
  done < <(image_config paths)
  [[ -f "$stage/app/dist/server.js" ]] || die "tsc wrote no dist/server.js"
  # Directories as a COPY makes them (0755); files keep the checkout's modes (the umask may differ).
  find "$stage" -type d -exec chmod 0755 {} +
  chmod -R go-w,a+rX "$stage"
  layer_tar "$stage" "$work/hook-layer.tar" --owner=0 --group=0
  config="$(image_config config "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "NODE_VERSION=$node_version")" \
    || die "could not read the Dockerfile's settings (above)"
  build_image "$ref" "$config" "$work/image.tar" "$base_tar" "$work/hook-layer.tar"
  mv -f "$work/image.tar" "$archive"
  # Only the newest three hook images stay.
  find "${archive%/*}" -maxdepth 1 -name '*.tar' -printf '%T@ %p\n' | sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -f
  log "built $ref in $(elapsed $((SECONDS - start)))"
fi

if [[ -n "$output" ]]; then
  mkdir -p "$(dirname "$output")"
  rm -f "$output"
  ln "$archive" "$output" 2>/dev/null || cp "$archive" "$output"
  archive="$output"
fi
printf '%s\n' "$archive"
