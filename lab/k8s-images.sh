#!/usr/bin/env bash
# Prints the directory holding the lab's control-plane image archives for Kubernetes VERSION
# (kube-apiserver, kube-controller-manager, kube-scheduler and pause, as `kubeadm config images
# list --image-repository lab.local` names them), made without a registry from the binaries of
# lab/k8s-build.sh. Usage: lab/k8s-images.sh v1.34.4
#
# Cache: $ETCD_RUNBOOKS_TOOLS_CACHE (default /var/cache/etcd-runbooks/tools)/k8s-images-VERSION-<hash of
# this script, mkimage.py and pause>/, built in .part and renamed when complete, under flock.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=${1:?usage: k8s-images.sh VERSION (e.g. v1.34.4)}
# kubeadm v1.34's pause tag (`kubeadm config images list`); the sandbox image containerd is told to use.
PAUSE_TAG=3.10.1
REPO=lab.local
export PATH=$PATH:/usr/local/go/bin CGO_ENABLED=0
cache=${ETCD_RUNBOOKS_TOOLS_CACHE:-/var/cache/etcd-runbooks/tools}
key=$(cat "$0" "$here/images/mkimage.py" "$here/images/pause/"* | sha256sum | cut -c1-8)
out=$cache/k8s-images-$version-$key
if [ -f "$out/pause.tar" ]; then echo "$out"; exit 0; fi
bins=$("$here/k8s-build.sh" "$version")
mkdir -p "$cache"
exec 8>"$cache/.k8s-images-$version.lock"
flock 8
if [ -f "$out/pause.tar" ]; then echo "$out"; exit 0; fi
rm -rf "$out.part"; mkdir -p "$out.part"
(cd "$here/images/pause" && go build -trimpath -ldflags='-s -w' -o "$out.part/pause.bin" .) >&2
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  python3 "$here/images/mkimage.py" "$out.part/$c.tar" "$REPO/$c:$version" "$bins/$c:/usr/local/bin/$c"
done
python3 "$here/images/mkimage.py" "$out.part/pause.tar" "$REPO/pause:$PAUSE_TAG" --entrypoint '["/pause"]' "$out.part/pause.bin:/pause"
rm -f "$out.part/pause.bin"
echo "$PAUSE_TAG" > "$out.part/pause-tag"
mv "$out.part" "$out"
echo "$out"
