#!/usr/bin/env bash
# Prints the directory holding the image archive of etcd RELEASE (etcd, etcdctl, etcdutl built by
# lab/etcd-build.sh), tagged as kubeadm names its local etcd image: lab.local/etcd:<X.Y.Z>-0
# (ClusterConfiguration etcd.local.imageTag). Made without a registry by lab/images/mkimage.py.
# Usage: lab/etcd-image.sh v3.6.16
# Cache: $ETCD_RUNBOOKS_TOOLS_CACHE (default /var/cache/etcd-runbooks/tools)/etcd-image-RELEASE-<hash
# of this script and mkimage.py>/, built in .part and renamed when complete, under flock.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
release=${1:?usage: etcd-image.sh RELEASE (e.g. v3.6.16)}
[[ $release =~ ^v3\.[56]\.[0-9]+$ ]] || { echo "etcd-image.sh: only built releases (v3.5.x, v3.6.x) have images" >&2; exit 2; }
cache=${ETCD_RUNBOOKS_TOOLS_CACHE:-/var/cache/etcd-runbooks/tools}
key=$(cat "$0" "$here/images/mkimage.py" | sha256sum | cut -c1-8)
out=$cache/etcd-image-$release-$key
if [ -f "$out/etcd.tar" ]; then echo "$out"; exit 0; fi
bins=$("$here/etcd-build.sh" "$release")
mkdir -p "$cache"
exec 8>"$cache/.etcd-image-$release.lock"
flock 8
if [ -f "$out/etcd.tar" ]; then echo "$out"; exit 0; fi
rm -rf "$out.part"; mkdir -p "$out.part"
python3 "$here/images/mkimage.py" "$out.part/etcd.tar" "lab.local/etcd:${release#v}-0" \
  "$bins/etcd:/usr/local/bin/etcd" "$bins/etcdctl:/usr/local/bin/etcdctl" "$bins/etcdutl:/usr/local/bin/etcdutl"
echo "${release#v}-0" > "$out.part/tag"
mv "$out.part" "$out"
echo "$out"
