#!/usr/bin/env bash
# Writes the certificates of mutual TLS between Metacontroller and the hook into DIR (make install
# uses metacontroller/controller/certs/, which git ignores, for kustomize's secretGenerator):
#   ca.crt                   the CA both sides trust (its key, ca.key, stays in DIR, never in the cluster)
#   server.crt, server.key   the hook's serving certificate, for its Service's DNS names
#   client.crt, client.key   Metacontroller's client certificate
# Files that exist are kept, so running it again rotates nothing; --renew issues new server and
# client certificates from the same CA (then re-apply, and restart Metacontroller: it reads its
# client certificate once). Delete DIR for a new CA.
#   scripts/make-certs.sh [--renew] DIR
# NAMESPACE, SERVICE: the hook's Service (default prometheus-cluster-controller for both).
# EXTRA_SANS: more subjectAltName entries for the server, e.g. DNS:localhost,IP:127.0.0.1.
# DAYS: validity of the server and client certificates (default 825); the CA's is 3650.
set -euo pipefail

renew=0
if [[ "${1:-}" == --renew ]]; then renew=1; shift; fi
dir="${1:?usage: scripts/make-certs.sh [--renew] DIR}"
namespace="${NAMESPACE:-prometheus-cluster-controller}"
service="${SERVICE:-prometheus-cluster-controller}"
days="${DAYS:-825}"
command -v openssl >/dev/null || { echo "make-certs: openssl is needed (Debian: apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
umask 077

key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
serial() { echo "0x$(openssl rand -hex 16)"; }

if [[ ! -s ca.crt || ! -s ca.key ]]; then
  openssl req -x509 -new "${key[@]}" -keyout ca.key -out ca.crt -days 3650 -sha256 \
    -subj "/CN=prometheus-cluster-controller-ca" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  rm -f server.crt client.crt
  echo "make-certs: new CA in $dir/ca.crt" >&2
fi

# leaf NAME SUBJECT EXTENSION...
leaf() {
  local name="$1" subject="$2"
  shift 2
  if [[ "$renew" == 0 && -s "$name.crt" && -s "$name.key" ]]; then return; fi
  printf '%s\n' "$@" > "$name.ext"
  openssl req -new "${key[@]}" -keyout "$name.key" -out "$name.csr" -subj "$subject" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -set_serial "$(serial)" -days "$days" -sha256 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
  echo "make-certs: issued $dir/$name.crt ($subject, $days days)" >&2
}

sans="DNS:$service,DNS:$service.$namespace,DNS:$service.$namespace.svc,DNS:$service.$namespace.svc.cluster.local"
leaf server "/CN=$service.$namespace.svc" basicConstraints=critical,CA:FALSE keyUsage=critical,digitalSignature,keyEncipherment \
  extendedKeyUsage=serverAuth "subjectAltName=$sans${EXTRA_SANS:+,$EXTRA_SANS}"
leaf client "/CN=metacontroller" basicConstraints=critical,CA:FALSE keyUsage=critical,digitalSignature,keyEncipherment \
  extendedKeyUsage=clientAuth
# Readable for kubectl and kustomize; the directory itself is private.
chmod 700 .
chmod 600 ./*.key
chmod 644 ./*.crt
