#!/usr/bin/env bash
# Lab PKI: one CA, per-node server and peer certificates (IP SANs), one client certificate.
# Usage: pki.sh DIR NODE... (NODE as name=address). Existing files are kept.
source "$(dirname "$0")/common.sh"

dir=$1; shift
mkdir -p "$dir"; cd "$dir"

if [ ! -f ca.crt ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=etcd-runbooks lab CA" -out ca.crt
fi

# issue NAME CN EXT: key and certificate signed by the lab CA.
issue() {
  local name=$1 cn=$2 ext=$3
  [ -f "$name.crt" ] && return
  openssl ecparam -name prime256v1 -genkey -noout -out "$name.key" 2>/dev/null
  openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 3650 \
    -extfile <(printf '%s\n' "$ext") -out "$name.crt" 2>/dev/null
  rm -f "$name.csr"
}

issue client etcd-runbooks "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature"
for spec in "$@"; do
  node=${spec%%=*}; addr=${spec#*=}
  for kind in server peer; do
    issue "$node-$kind" "$node" "subjectAltName=IP:$addr,IP:127.0.0.1,DNS:$node,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth
keyUsage=critical,digitalSignature,keyEncipherment"
  done
done
