# What scripts/install-tools.sh, install-e2e-tools.sh and install-node-tools.sh share: the cache
# root, logging, argument parsing, temporary files, Go builds that never leave a half-built binary
# in place, version checks and the links of a bin dir. Sourced, after the script has set:
#   root       the repository root
#   tools_dir  the script's directory in the cache (where it builds)
#   bin_dir    the directory of links it prints
# It sets $cache before them, so source it first and set them after.

cache="${PCC_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?HOME is not set; set PCC_CACHE_DIR}/.cache}/prometheus-cluster-controller}"
script_name="$(basename "$0" .sh)"

log() { printf '%s: %s\n' "$script_name" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The script's header comment, from its second line to `set -euo pipefail`.
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

# parse_args <component>... -- "$@": sets components to the components named on the command line
# (all of them when none is), answers --print-bin-dir (without needing Go) and --help, and dies on
# anything else.
components=()
parse_args() {
  local known=() arg k ok
  while [[ $# -gt 0 && "$1" != "--" ]]; do known+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  for arg in "$@"; do
    case "$arg" in
      --print-bin-dir) [[ $# -eq 1 ]] || die "--print-bin-dir takes no other argument"; printf '%s\n' "$bin_dir"; exit 0 ;;
      -h|--help) usage; exit 0 ;;
    esac
    ok=0
    for k in "${known[@]}"; do [[ "$arg" == "$k" ]] && ok=1; done
    [[ $ok -eq 1 ]] || { usage >&2; die "unknown argument: $arg (components: ${known[*]})"; }
    components+=("$arg")
  done
  [[ ${#components[@]} -gt 0 ]] || components=("${known[@]}")
}
wanted() { local c; for c in "${components[@]}"; do [[ "$c" == "$1" ]] && return 0; done; return 1; }

# Paths removed on exit, however the script ends; the progress ticker of a build is stopped too.
tmp_paths=()
ticker_pid=""
cleanup() {
  [[ -z "$ticker_pid" ]] || kill "$ticker_pid" 2>/dev/null || true
  [[ ${#tmp_paths[@]} -eq 0 ]] || rm -rf "${tmp_paths[@]}"
}
trap cleanup EXIT

elapsed() { local s=$1; printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# The version a wrapper module requires, e.g. module_version tools/helm helm.sh/helm/v3 -> v3.21.4.
module_version() {
  local gomod="$root/$1/go.mod" v
  [[ -f "$gomod" ]] || die "$gomod is missing"
  v="$(awk -v m="$2" '($1 == "require" && $2 == m) || ($1 == m && $2 ~ /^v/) { print ($1 == m ? $2 : $3); exit }' "$gomod")"
  [[ -n "$v" ]] || die "$gomod does not require $2"
  printf '%s\n' "$v"
}

# find_go <what needs it>: sets go_cmd to $GO, go on PATH or /usr/local/go/bin/go, or dies saying
# why; exports the flags every build here uses (static binaries, go.sum enforced).
go_cmd=""
find_go() {
  [[ -n "$go_cmd" ]] && return 0
  if [[ -n "${GO:-}" ]]; then
    go_cmd="$GO"
  elif command -v go >/dev/null 2>&1; then
    go_cmd="go"
  elif [[ -x /usr/local/go/bin/go ]]; then
    go_cmd="/usr/local/go/bin/go"
  fi
  if [[ -z "$go_cmd" ]] || ! "$go_cmd" version >/dev/null 2>&1; then
    die "Go is needed to build $1, but '${go_cmd:-go}' was not found.
  Install Go >= 1.26 (https://go.dev/dl/) and put it on PATH (e.g. export PATH=/usr/local/go/bin:\$PATH),
  or point GO at the go binary."
  fi
  export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
  log "using $("$go_cmd" version)"
}

# The -X flags hack/lib/version.sh sets for a Kubernetes release, so that `kubectl version`, helm
# and kwok see the real version instead of v0.0.0. buildDate is the release commit's time, which
# the module proxy records, so the binaries do not depend on when they were built.
kubernetes_ldflags() {
  local version="$1" minor build_date p flags="-s -w"
  [[ "$version" =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || die "unexpected Kubernetes version $version"
  minor="${BASH_REMATCH[1]}"
  build_date="$(cd "$root/tools/e2e/kubernetes" && "$go_cmd" list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
  for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    flags+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    flags+=" -X $p.gitTreeState=clean -X $p.buildDate=$build_date"
  done
  printf '%s\n' "$flags"
}

# build <name> <version> <estimate> <module dir> <ldflags> <main package>...
# One `go build -o $build_tmp/` for all the packages (they share the compilation of their common
# dependencies), with progress every 30 s: the packages compiled so far (go build -v) out of the
# packages the commands import. <module dir> is absolute or relative to the repository root. The
# binaries stay in $build_tmp for check_version and install_binaries, so an interrupted or failed
# build never leaves a binary where the scripts look for one.
build_tmp=""
build() {
  local name="$1" version="$2" estimate="$3" module_dir="$4" ldflags="$5"
  shift 5
  [[ "$module_dir" == /* ]] || module_dir="$root/$module_dir"
  local start=$SECONDS total status=0 build_log
  mkdir -p "$tools_dir"
  build_tmp="$(mktemp -d "$tools_dir/.$name-$version.tmp.XXXXXX")"
  tmp_paths+=("$build_tmp")
  build_log="$build_tmp/build.log"
  log "building $name $version (first run only, $estimate)..."
  total="$(cd "$module_dir" && "$go_cmd" list -deps "$@" | wc -l)" \
    || die "go list failed for $name $version in $module_dir"
  : >"$build_log"
  (
    while sleep 30; do
      log "  $name: $(elapsed $((SECONDS - start))) elapsed, $(grep -cv '^#' "$build_log" || true)/$total packages compiled (cached ones are not counted)"
    done
  ) &
  ticker_pid=$!
  (
    cd "$module_dir"
    exec "$go_cmd" build -p "${E2E_BUILD_P:-2}" -v -trimpath -ldflags "$ldflags" -o "$build_tmp/" "$@"
  ) >"$build_log" 2>&1 || status=$?
  kill "$ticker_pid" 2>/dev/null || true
  wait "$ticker_pid" 2>/dev/null || true
  ticker_pid=""
  if [[ $status -ne 0 ]]; then
    # go build -v lists package names one a line; errors are the other lines.
    grep -v '^[A-Za-z0-9._~/-]*$' "$build_log" | tail -n 40 >&2 || true
    die "building $name $version failed after $(elapsed $((SECONDS - start))) (go build exit $status; output above)"
  fi
  log "built $name $version in $(elapsed $((SECONDS - start)))"
}

# check_version <binary in $build_tmp> <expected glob> <version command...>: the first line the
# command prints must match the glob.
check_version() {
  local bin="$build_tmp/$1" expected="$2" reported
  shift 2
  reported="$("$bin" "$@" 2>&1 | head -n 1)" || true
  # shellcheck disable=SC2053 # $expected is a glob on purpose
  [[ "$reported" == $expected ]] || die "${bin##*/} was built but reports version '$reported', expected $expected"
  log "  ${bin##*/}: $reported"
}

# install_binaries <dest dir> <binary in $build_tmp>...
install_binaries() {
  local dest="$1" b
  shift
  mkdir -p "$dest"
  for b in "$@"; do mv -f "$build_tmp/$b" "$dest/$b"; done
}

# link <name> <target>: $bin_dir/<name> -> <target>, relative, so the cache directory can be moved.
link() {
  local name="$1" target="$2" rel
  mkdir -p "$bin_dir"
  rel="$(realpath -m --relative-to="$bin_dir" "$target")"
  if [[ "$(readlink "$bin_dir/$name" 2>/dev/null || true)" != "$rel" ]]; then
    ln -sfn "$rel" "$bin_dir/$name"
  fi
}
