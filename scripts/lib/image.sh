# Container images without a container engine, for scripts/install-node-tools.sh (the real node's
# images) and scripts/build-image.sh (the hook's image): a docker-archive, what `docker save` writes
# and `docker load`, `ctr images import` and `skopeo copy docker-archive:...` read. Sourced after
# scripts/lib/install.sh (log, die, tmp_paths).

# The tar flags of every layer: sorted entries, fixed timestamps, numeric owners, no atime/ctime,
# so the same files give the same bytes (and the same layer digest).
image_tar_flags=(--sort=name --mtime=@0 --numeric-owner --format=posix --pax-option=delete=atime,delete=ctime)

# layer_tar <rootfs dir> <dest tar> [tar option...]: a layer of the directory's contents, owners
# and modes as they are unless an option (such as --owner=0 --group=0) says otherwise.
layer_tar() {
  local rootfs="$1" dest="$2" entries
  shift 2
  mapfile -t entries < <(cd "$rootfs" && ls -A | LC_ALL=C sort)
  [[ ${#entries[@]} -gt 0 ]] || die "layer_tar: $rootfs is empty"
  tar "${image_tar_flags[@]}" "$@" -C "$rootfs" -cf "$dest" "${entries[@]}"
}

joined() { local IFS=,; printf '%s' "$*"; }

# build_image <reference> <image config JSON (the "config" object)> <dest archive> <layer>...
# Writes a docker-archive of the layers, bottom first: each a directory (tarred by layer_tar, owners
# as they are) or a ready uncompressed tar (used as it is, e.g. a base rootfs); an image config
# naming each layer by digest, with one history entry each; a manifest.json naming the reference.
# The same inputs give the same bytes.
build_image() {
  local ref="$1" config="$2" dest="$3" work layer diff_id config_id
  shift 3
  [[ $# -gt 0 ]] || die "build_image $ref: no layers"
  work="$(mktemp -d "$(dirname "$dest")/.image.tmp.XXXXXX")"
  tmp_paths+=("$work")
  local diff_ids=() layers=() history=() i=0
  for layer in "$@"; do
    i=$((i + 1))
    if [[ -d "$layer" ]]; then
      layer_tar "$layer" "$work/layer.tar"
    elif [[ -f "$layer" ]]; then
      # A hard link where it can (the same file system), else a copy: the archive is written below.
      ln -f "$layer" "$work/layer.tar" 2>/dev/null || cp "$layer" "$work/layer.tar"
    else
      die "build_image $ref: layer $layer is neither a directory nor a file"
    fi
    diff_id="$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
    mkdir -p "$work/$diff_id"
    mv "$work/layer.tar" "$work/$diff_id/layer.tar"
    diff_ids+=("\"sha256:$diff_id\"")
    layers+=("\"$diff_id/layer.tar\"")
    history+=("{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"$script_name: layer $i of $#\"}")
  done
  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}' \
    "$config" "$(joined "${diff_ids[@]}")" "$(joined "${history[@]}")" >"$work/config.json"
  config_id="$(sha256sum "$work/config.json" | cut -d' ' -f1)"
  mv "$work/config.json" "$work/$config_id.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]' "$config_id" "$ref" "$(joined "${layers[@]}")" >"$work/manifest.json"
  # Each layer's directory once (two identical layers share one).
  local members=(manifest.json "$config_id.json") d
  while read -r d; do members+=("$d"); done < <(printf '%s\n' "${layers[@]}" | sed 's|^"\(.*\)/layer.tar"$|\1|' | awk '!seen[$0]++')
  tar "${image_tar_flags[@]}" --owner=0 --group=0 -C "$work" -cf "$work/image.tar" "${members[@]}"
  mv -f "$work/image.tar" "$dest"
  log "  $ref: $dest ($(du -h "$dest" | cut -f1), config sha256:$config_id)"
}
