#!/usr/bin/env bash
# Builds the production Temporal parts with `go install`, once per version, into the cache outside
# the clone (keyed by version; ETCD_RUNBOOKS_TOOLS_CACHE, default /var/cache/etcd-runbooks/tools),
# and prints the directory. The versions are the ones docker-compose.yml runs:
#   server 1.29 -> go.temporal.io/server v1.29.1 (cmd/server, cmd/tools/sql), with its PostgreSQL
#   schema files (schema/postgresql/v12, shipped in the module), UI 2.42.1 -> ui-server v2.42.1.
# The directory holds bin/{temporal-server,temporal-sql-tool,temporal-ui-server} and schema/.
# About 8 minutes on 2 cores the first time (../shared/lab-recipes/temporal-postgres/NOTES.md §1).
# --bundle: also packs that directory with the Temporal CLI (scripts/temporal-cli.sh) as
# bin/temporal into temporal-bundle-<versions>-linux-x64.tar.gz beside it, with its .sha256, and
# prints the tarball's path instead: what deploy/head-node/install.sh --temporal-bundle takes, so
# the head node needs no Go toolchain and no network to build Temporal. The binaries in it are
# stripped (binutils' strip) when strip is there.
set -euo pipefail
bundle=0; [ "${1:-}" = --bundle ] && bundle=1
SERVER_VERSION=v1.29.1
UI_VERSION=v2.42.1
cache=${ETCD_RUNBOOKS_TOOLS_CACHE:-/var/cache/etcd-runbooks/tools}
out=$cache/temporal-server-$SERVER_VERSION-ui-$UI_VERSION
if [ ! -x "$out/bin/temporal-ui-server" ]; then
  command -v go >/dev/null 2>&1 || { echo "temporal-server-build: no Go toolchain" >&2; exit 1; }
  part=$out.part
  rm -rf "$part" && mkdir -p "$part/bin"
  echo "temporal-server-build: go install Temporal server $SERVER_VERSION and UI server $UI_VERSION (minutes, once)" >&2
  export GOFLAGS=-buildvcs=false GOBIN=$part/bin
  go install "go.temporal.io/server/cmd/server@$SERVER_VERSION" >&2
  go install "go.temporal.io/server/cmd/tools/sql@$SERVER_VERSION" >&2
  mv "$part/bin/server" "$part/bin/temporal-server"
  mv "$part/bin/sql" "$part/bin/temporal-sql-tool"
  go install "github.com/temporalio/ui-server/v2/cmd/server@$UI_VERSION" >&2
  mv "$part/bin/server" "$part/bin/temporal-ui-server"
  module=$(go env GOMODCACHE)/go.temporal.io/server@$SERVER_VERSION
  mkdir -p "$part/schema"
  cp -r "$module/schema/postgresql" "$part/schema/"
  chmod -R u+w "$part/schema"
  rm -rf "$out" && mv "$part" "$out"
fi
if [ "$bundle" = 1 ]; then
  cli=$("$(dirname "$0")/temporal-cli.sh")
  name=temporal-bundle-server-$SERVER_VERSION-ui-$UI_VERSION-linux-x64
  tarball=$cache/$name.tar.gz
  if [ ! -f "$tarball" ] || [ "$cli" -nt "$tarball" ] || [ "$out" -nt "$tarball" ] || [ "$0" -nt "$tarball" ]; then
    stage=$(mktemp -d)
    mkdir -p "$stage/$name/bin"
    cp -a "$out/bin/." "$stage/$name/bin/"
    cp -a "$out/schema" "$stage/$name/"
    cp "$cli" "$stage/$name/bin/temporal"
    # Symbol tables and DWARF are for debuggers, not the head node: 187 MB -> 119 MB packed.
    if command -v strip >/dev/null 2>&1; then strip --strip-all "$stage/$name/bin/"*; else echo "temporal-server-build: no strip (binutils): bundle left unstripped" >&2; fi
    tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$tarball.new" "$name" && mv "$tarball.new" "$tarball"
    (cd "$cache" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
    rm -rf "$stage"
  fi
  echo "$tarball"
  exit 0
fi
echo "$out"
