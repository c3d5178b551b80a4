#!/usr/bin/env bash
# Prints the directory holding Kubernetes VERSION's kubeadm, kubelet, kubectl, kube-apiserver,
# kube-controller-manager and kube-scheduler, building them from Go modules when the cache outside
# the clone does not have them yet (about 10 minutes and 3.5 GB of Go build cache on 2 cores).
# Usage: lab/k8s-build.sh v1.34.4
#
# Cache: $ETCD_RUNBOOKS_TOOLS_CACHE (default /var/cache/etcd-runbooks/tools)/k8s-VERSION-rN/, keyed by
# the version and RECIPE below (bump it when the build changes); built in .part, renamed when complete.
#
# k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces every k8s.io/* staging module with
# a directory). A wrapper module requires it and replaces each staging module with its published
# v0.X.Y instead; the binaries are stamped with the version as Kubernetes' own build does (kubeadm
# derives its default kubernetesVersion and image tags from it). Stay on 1.34: kubelet 1.35 refuses
# cgroup v1 by default, and these machines are cgroup v1 hybrid.
set -euo pipefail
RECIPE=r1
version=${1:?usage: k8s-build.sh VERSION (e.g. v1.34.4)}
[[ $version =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "k8s-build: want v1.MINOR.PATCH, got '$version'" >&2; exit 2; }
minor=${BASH_REMATCH[1]}; staging=v0.${version#v1.}
components=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler)
export PATH=$PATH:/usr/local/go/bin CGO_ENABLED=0 GOFLAGS=-mod=mod
cache=${ETCD_RUNBOOKS_TOOLS_CACHE:-/var/cache/etcd-runbooks/tools}
out=$cache/k8s-$version-$RECIPE
if [ -x "$out/kube-scheduler" ]; then echo "$out"; exit 0; fi
command -v go >/dev/null 2>&1 || { echo "k8s-build: no Go toolchain to build Kubernetes $version" >&2; exit 1; }
mkdir -p "$cache"
exec 8>"$cache/.k8s-$version.lock"
flock 8
if [ -x "$out/kube-scheduler" ]; then echo "$out"; exit 0; fi
echo "k8s-build: building Kubernetes $version from Go modules (about 10 minutes, once)" >&2
src=$(mktemp -d "$cache/k8s-$version.src.XXXXXX")
trap 'rm -rf "$src"' EXIT
cd "$src"
upstream=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
[ -f "$upstream" ] || { echo "k8s-build: could not download k8s.io/kubernetes@$version" >&2; exit 1; }
{
  echo "module etcd-runbooks.local/k8s-${version//./-}"
  echo
  grep -E '^(go|godebug) ' "$upstream"
  echo
  echo "require k8s.io/kubernetes $version"
  echo
  echo 'replace ('
  awk '/^replace \(/,/^\)/' "$upstream" | awk -v v="$staging" '/=> \.\/staging/ { print "\t" $1 " => " $1 " " v }'
  echo ')'
} > go.mod
{
  echo '//go:build tools'
  echo
  echo '// Keeps the Kubernetes commands in go.mod through `go mod tidy`.'
  echo 'package tools'
  echo
  echo 'import ('
  for c in "${components[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
  echo ')'
} > tools.go
go mod tidy >&2
stamp="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  stamp+=" -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=1970-01-01T00:00:00Z"
done
rm -rf "$out.part"; mkdir -p "$out.part"
for c in "${components[@]}"; do
  go build -trimpath -tags=providerless -ldflags="$stamp" -o "$out.part/$c" "k8s.io/kubernetes/cmd/$c" >&2
done
[ "$("$out.part/kubeadm" version -o short)" = "$version" ] || { echo "k8s-build: kubeadm does not report $version" >&2; exit 1; }
mv "$out.part" "$out"
echo "$out"
