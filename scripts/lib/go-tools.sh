# Shared by scripts/install-tools.sh and scripts/install-e2e-tools.sh (sourced; expects $root and
# the functions log and die).

# The version a wrapper module requires, e.g. module_version tools/helm helm.sh/helm/v3 -> v3.21.4.
module_version() {
  local gomod="$root/$1/go.mod" v
  [[ -f "$gomod" ]] || die "$gomod is missing"
  v="$(awk -v m="$2" '($1 == "require" && $2 == m) || ($1 == m && $2 ~ /^v/) { print ($1 == m ? $2 : $3); exit }' "$gomod")"
  [[ -n "$v" ]] || die "$gomod does not require $2"
  printf '%s\n' "$v"
}

# find_go <what needs it>: sets go_cmd to $GO, go on PATH or /usr/local/go/bin/go, or dies saying why.
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
  log "using $("$go_cmd" version)"
}
