#!/usr/bin/env bash
# Captures what each etcd version prints for the commands etcd-runbooks parses, into
# test/fixtures/etcd-output/<version>/, for the parser tests. Runs a throwaway 1-member etcd of each
# version on loopback (ports 2479x), no TLS. 3.4 is Debian's package from the lab's root filesystem;
# 3.5 and 3.6 come from lab/etcd-build.sh. Rerun after changing versions in lab/common.sh.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/lab/common.sh"
base=$("$repo/lab/rootfs.sh")
out_root=$repo/test/fixtures/etcd-output
port=24791
for version in 3.4 3.5 3.6; do
  release=$(etcd_release "$version")
  if [ "$version" = 3.4 ]; then bins=$base/usr/bin; else bins=$("$repo/lab/etcd-build.sh" "$release"); fi
  tmp=$(mktemp -d); out=$out_root/$version; mkdir -p "$out"
  url=http://127.0.0.1:$port; peer=http://127.0.0.1:$((port + 1))
  "$bins/etcd" --name m1 --data-dir "$tmp/data" --listen-client-urls "$url" --advertise-client-urls "$url" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "m1=$peer" > "$tmp/etcd.log" 2>&1 &
  pid=$!
  ctl() { ETCDCTL_API=3 "$bins/etcdctl" --endpoints="$url" "$@" 2>/dev/null; }
  for _ in $(seq 50); do ctl endpoint health >/dev/null && break; sleep 0.2; done
  for i in $(seq 20); do ctl put "/k/$i" "v$i" >/dev/null; done
  "$bins/etcd" --version > "$out/etcd-version.txt"
  ctl version > "$out/etcdctl-version.txt"
  [ -x "$bins/etcdutl" ] && "$bins/etcdutl" version > "$out/etcdutl-version.txt"
  ctl -w json endpoint status > "$out/endpoint-status.json"
  ctl -w json member list > "$out/member-list.json"
  ctl -w json member add m2 --peer-urls=http://127.0.0.1:24999 --learner > "$out/member-add.json"
  ctl -w json endpoint hashkv > "$out/endpoint-hashkv.json"
  curl -sS "$url/version" > "$out/http-version.json"
  ctl snapshot save "$tmp/snap.db" >/dev/null
  if [ -x "$bins/etcdutl" ]; then
    "$bins/etcdutl" -w json snapshot status "$tmp/snap.db" > "$out/snapshot-status.json"
    "$bins/etcdutl" snapshot restore --help > "$out/snapshot-restore-help.txt" 2>&1
  else
    ctl -w json snapshot status "$tmp/snap.db" > "$out/snapshot-status.json"
    ETCDCTL_API=3 "$bins/etcdctl" snapshot restore --help > "$out/snapshot-restore-help.txt" 2>&1
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  # The space quota: a second member with a 16 MiB quota, filled until NOSPACE, then keys deleted,
  # compacted, defragmented and the alarm disarmed (etcd docs "Maintenance: Space quota").
  rm -rf "$tmp/data"
  "$bins/etcd" --name m1 --data-dir "$tmp/data" --listen-client-urls "$url" --advertise-client-urls "$url" --quota-backend-bytes=16777216 \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "m1=$peer" > "$tmp/etcd.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do ctl endpoint health >/dev/null && break; sleep 0.2; done
  ctl -w json alarm list > "$out/alarm-list-none.json"
  curl -sS "$url/metrics" | grep '^etcd_server_quota_backend_bytes ' > "$out/metrics-quota.txt"
  head -c 1000000 /dev/zero | tr '\0' e > "$tmp/value"
  for i in $(seq 40); do ctl put "/fill/$i" < "$tmp/value" >/dev/null || break; done
  ctl -w json alarm list > "$out/alarm-list-nospace.json"
  ETCDCTL_API=3 "$bins/etcdctl" --endpoints="$url" -w json endpoint health > "$out/endpoint-health-nospace.json" 2>/dev/null || true
  ETCDCTL_API=3 "$bins/etcdctl" --endpoints="$url" put /after-fill x > /dev/null 2> "$out/put-nospace.txt" || true
  ctl del --prefix /fill/ > /dev/null
  rev=$(ctl -w json get x | sed -n 's/.*"revision":\([0-9]*\).*/\1/p')
  ctl compact --physical "$rev" > /dev/null
  ctl defrag > "$out/defrag.txt"
  ctl alarm disarm > "$out/alarm-disarm.txt"
  ctl lease grant 60 > "$out/lease-grant.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$tmp"
  echo "captured etcd $version ($release) into $out" >&2
done
