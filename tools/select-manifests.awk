# Selects documents from a multi-document YAML stream (as `kubectl kustomize` prints it) by their
# top-level `kind:` and `metadata.name`, without a YAML library (the Makefile uses it before
# `npm ci` has run, and python3 may lack PyYAML).
#
#   awk -v kinds='^(CustomResourceDefinition|Namespace)$' -v invert=1 -f tools/select-manifests.awk
#
# Variables (all optional):
#   kinds   extended regex a document's kind must match      (default: any)
#   names   extended regex a document's metadata.name must match (default: any)
#   invert  1 = keep the documents that do NOT match           (default: 0)
#   list    1 = print "Kind/name" lines instead of the documents (default: 0)
#
# It relies on what kustomize emits: documents separated by lines that are exactly `---`, and
# top-level keys at column 0 with nested keys indented (so `kind:` and `metadata:` at column 0 are
# the document's own; `  name:` right under `metadata:` is its name).

function unquote(s) {
  sub(/^[ \t]+/, "", s); sub(/[ \t]+(#.*)?$/, "", s)
  if (s ~ /^".*"$/ || s ~ /^'.*'$/) s = substr(s, 2, length(s) - 2)
  return s
}

function flush(   matched) {
  if (doc != "" && kind != "") {
    matched = (kinds == "" || kind ~ kinds) && (names == "" || name ~ names)
    if (invert == 1) matched = !matched
    if (matched) {
      if (list == 1) printf "%s/%s\n", kind, name
      else { printf "%s%s", (printed ? "---\n" : ""), doc; printed = 1 }
    }
  }
  doc = ""; kind = ""; name = ""; in_metadata = 0
}

/^---[ \t]*$/ { flush(); next }

{
  doc = doc $0 "\n"
  if ($0 ~ /^[^ \t#]/) in_metadata = ($0 ~ /^metadata:[ \t]*$/)
  if ($0 ~ /^kind:/) kind = unquote(substr($0, 6))
  else if (in_metadata && name == "" && $0 ~ /^  name:/) name = unquote(substr($0, 8))
}

END { flush() }
