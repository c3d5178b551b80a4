#!/usr/bin/env bash
# Not measured: the fault before a replace or recover-quorum round, etcd stopped (not disabled) on
# NODE... while the node itself and SSH stay up. Usage: FLOOR_ENV=facts stop.sh NODE...
. "$(dirname "$0")/lib.sh"
for n in "$@"; do on "$n" "systemctl stop $UNIT"; done
