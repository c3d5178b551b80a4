#!/usr/bin/env bash
# Prints the path of a Temporal CLI: $TEMPORAL_CLI if set, else `temporal` on PATH, else the
# build cached outside the clone in /var/cache/etcd-runbooks/tools (keyed by version, so CI and later
# clones reuse it), building it with `go install` (v1.5.1 is the newest tag that go-installs; later
# tags carry replace directives) when it is missing.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
version=v1.5.1
if [ -n "${TEMPORAL_CLI:-}" ]; then echo "$TEMPORAL_CLI"; exit 0; fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi
cache=${ETCD_RUNBOOKS_TOOLS_CACHE:-/var/cache/etcd-runbooks/tools}
bin=$cache/temporal-$version/temporal
if [ ! -x "$bin" ]; then
  command -v go >/dev/null 2>&1 || { echo "temporal-cli: no Temporal CLI and no Go toolchain to build one" >&2; exit 1; }
  echo "temporal-cli: building github.com/temporalio/cli $version with go install (a few minutes, once)" >&2
  mkdir -p "$cache/temporal-$version.part"
  GOBIN=$cache/temporal-$version.part go install "github.com/temporalio/cli/cmd/temporal@$version" >&2
  rm -rf "$cache/temporal-$version" && mv "$cache/temporal-$version.part" "$cache/temporal-$version"
fi
echo "$bin"
