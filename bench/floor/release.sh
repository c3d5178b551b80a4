#!/usr/bin/env bash
# Not measured: every member on NODE... put on etcd release VERSION (staged under RELEASES_DIR),
# one at a time, each serving it before the next: the starting point of an upgrade round.
# Usage: FLOOR_ENV=facts release.sh VERSION NODE...
. "$(dirname "$0")/lib.sh"
version=$1; shift
for n in "$@"; do serves_version "$n" "$version" || restart_on "$n" "$version"; done
