#!/usr/bin/env bash
# Floor of rotate-certs (etcd docs "Transport security model"; kubeadm docs "Certificate Management
# with kubeadm": renew with the same key and SANs): on each node in turn, its server, peer and
# client certificates renewed for DAYS days: a request made on the node from the current
# certificate and its key, signed on this host by the CA (CA_CERT_HOST, CA_KEY_HOST), written beside
# the old one and renamed over it; then what its client and peer URLs serve is read on a new
# handshake and must expire when the renewed one does. Then equal hashkv.
# Usage: FLOOR_ENV=facts rotate.sh DAYS NODES...
. "$(dirname "$0")/lib.sh"
days=$1; shift
for n in "$@"; do
  for pair in "$SERVER_CERT:$SERVER_KEY" "$PEER_CERT:$PEER_KEY" "$CERT:$KEY"; do
    crt=${pair%%:*} key=${pair#*:}
    on "$n" "openssl x509 -x509toreq -in $crt -signkey $key -copy_extensions copyall" \
      | openssl x509 -req -CA "$CA_CERT_HOST" -CAkey "$CA_KEY_HOST" -days "$days" -sha256 -copy_extensions copyall -set_serial "0x$(openssl rand -hex 16)" 2>/dev/null \
      | on "$n" "cat > $crt.floor-new && chmod --reference=$crt $crt.floor-new && chown --reference=$crt $crt.floor-new && mv -f $crt.floor-new $crt"
  done
  for pair in "$(v CLIENT "$n"):$SERVER_CERT" "$(v PEER "$n"):$PEER_CERT"; do
    url=${pair%:*} hp=${url#https://}
    want=$(on "$n" "openssl x509 -in ${pair##*:} -noout -enddate")
    got=$(on "$n" "openssl s_client -connect $hp -cert $CERT -key $KEY -CAfile $CA </dev/null 2>/dev/null | openssl x509 -noout -enddate")
    [ "$got" = "$want" ] || { echo "$n: $url serves $got, not $want" >&2; exit 1; }
  done
done
hashkv_equal "$@"
