#!/usr/bin/env bash
# Prints the directory holding etcd, etcdctl and etcdutl of etcd VERSION (v3.5.x or v3.6.x),
# building them from Go modules when the cache outside the clone does not have them yet.
# Usage: lab/etcd-build.sh v3.6.16
#
# Cache: $ETCD_RUNBOOKS_TOOLS_CACHE (default /var/cache/etcd-runbooks/tools)/etcd-VERSION/, keyed by
# the version and this script's content; a half-built directory is never used (built in .part,
# renamed when complete). A fresh machine builds in 1-4 minutes per version (Go, module proxy).
#
# `go install go.etcd.io/etcd/...@VERSION` refuses these modules (their go.mod files carry replace
# directives), so a small wrapper module requires them instead: a main package calling
# etcdmain.Main for the server, and etcdctl/etcdutl built as main packages of dependency modules,
# where replace directives do not apply. CGO_ENABLED=0 gives static binaries.
set -euo pipefail
version=${1:?usage: etcd-build.sh VERSION (e.g. v3.6.16)}
[[ $version =~ ^v3\.[56]\.[0-9]+$ ]] || { echo "etcd-build: want v3.5.x or v3.6.x, got '$version'" >&2; exit 2; }
export PATH=$PATH:/usr/local/go/bin CGO_ENABLED=0 GOFLAGS=-mod=mod
cache=${ETCD_RUNBOOKS_TOOLS_CACHE:-/var/cache/etcd-runbooks/tools}
key=$(sha256sum "$0" | cut -c1-8)
out=$cache/etcd-$version-$key
if [ -x "$out/etcdutl" ]; then echo "$out"; exit 0; fi
command -v go >/dev/null 2>&1 || { echo "etcd-build: no Go toolchain to build etcd $version" >&2; exit 1; }
mkdir -p "$cache"
exec 8>"$cache/.etcd-$version.lock"
flock 8
if [ -x "$out/etcdutl" ]; then echo "$out"; exit 0; fi
echo "etcd-build: building etcd $version from Go modules (1-4 minutes, once per version)" >&2
src=$(mktemp -d "$cache/etcd-$version.src.XXXXXX")
trap 'rm -rf "$src"' EXIT
cd "$src"
go mod init "etcd-runbooks.local/etcd-${version//./-}" >/dev/null 2>&1
mkdir -p cmd/etcd
cat > cmd/etcd/main.go <<'GO'
// The etcd server's entry point, as in etcd's own main package.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
cat > tools.go <<'GO'
//go:build tools

// Keeps the etcdctl and etcdutl modules in go.mod through `go mod tidy`.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
)
GO
go get "go.etcd.io/etcd/server/v3@$version" "go.etcd.io/etcd/etcdctl/v3@$version" "go.etcd.io/etcd/etcdutl/v3@$version" >&2
go mod tidy >&2
rm -rf "$out.part"; mkdir -p "$out.part"
go build -trimpath -ldflags='-s -w' -o "$out.part/etcd" ./cmd/etcd >&2
go build -trimpath -ldflags='-s -w' -o "$out.part/etcdctl" go.etcd.io/etcd/etcdctl/v3 >&2
go build -trimpath -ldflags='-s -w' -o "$out.part/etcdutl" go.etcd.io/etcd/etcdutl/v3 >&2
"$out.part/etcd" --version | grep -q "etcd Version: ${version#v}" || { echo "etcd-build: built etcd does not report ${version#v}" >&2; exit 1; }
mv "$out.part" "$out"
echo "$out"
