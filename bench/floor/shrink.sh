#!/usr/bin/env bash
# Not measured: brings the lab back to a runbook's starting point between rounds. Removes the
# members of NODE..., stops and disables etcd there and empties their data dirs (and what the
# runbooks moved aside). Usage: FLOOR_ENV=facts shrink.sh VIA NODE...
. "$(dirname "$0")/lib.sh"
via=$1; shift
for n in "$@"; do
  id=$(member_id "$via" "$n")
  [ -z "$id" ] || retry_unhealthy ctl "$via" member remove "$id" >/dev/null
  d=$(v DATA "$n")
  on "$n" "systemctl unmask --runtime --quiet $UNIT; systemctl disable --now --quiet $UNIT; rm -rf $d $d.aside-* $d.backup-*; install -d -o etcd -g etcd -m 0700 $d"
done
