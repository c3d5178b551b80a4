#!/usr/bin/env bash
# Prints the path of a Temporal CLI: $TEMPORAL_CLI if set, else `temporal` on PATH, else the
# project-local build in .tools/bin, building it with `go install` (v1.5.1 is the newest tag that
# go-installs; later tags carry replace directives) when it is missing.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
version=v1.5.1
if [ -n "${TEMPORAL_CLI:-}" ]; then echo "$TEMPORAL_CLI"; exit 0; fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi
bin=$repo/.tools/bin/temporal
if [ ! -x "$bin" ]; then
  command -v go >/dev/null 2>&1 || { echo "temporal-cli: no Temporal CLI and no Go toolchain to build one" >&2; exit 1; }
  echo "temporal-cli: building github.com/temporalio/cli $version with go install (a few minutes, once)" >&2
  GOBIN=$repo/.tools/bin go install "github.com/temporalio/cli/cmd/temporal@$version" >&2
fi
echo "$bin"
