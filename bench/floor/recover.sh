#!/usr/bin/env bash
# Floor of recover-quorum (reference 001, 004): etcd stopped, disabled and masked on every member's
# node and each data dir copied aside; the survivor started with --force-new-cluster (a drop-in),
# healthy, restarted without it, healthy; each other node's data dir moved aside and its member
# added as a learner and promoted; equal hashkv.
# Usage: FLOOR_ENV=facts recover.sh SURVIVOR OTHER...
. "$(dirname "$0")/lib.sh"
s=$1; shift
drop=/etc/systemd/system/$UNIT.d/floor-force-new-cluster.conf
for n in "$s" "$@"; do on "$n" "systemctl disable --now --quiet $UNIT && systemctl mask --runtime --quiet $UNIT"; done
for n in "$s" "$@"; do d=$(v DATA "$n"); on "$n" "cp -a $d $d.backup-floor-$(date -u +%s%N)"; done
on "$s" "mkdir -p ${drop%/*} && printf '[Service]\nEnvironment=ETCD_FORCE_NEW_CLUSTER=true\n' > $drop && systemctl daemon-reload && systemctl unmask --runtime --quiet $UNIT && systemctl start $UNIT"
until_ok 120 ctl "$s" endpoint health
on "$s" "rm -f $drop && systemctl daemon-reload && systemctl restart $UNIT && systemctl enable --quiet $UNIT"
until_ok 120 ctl "$s" endpoint health
for n in "$@"; do
  on "$n" "systemctl unmask --runtime --quiet $UNIT"
  set_aside "$n"
  add_member "$s" "$n"
done
hashkv_equal "$s" "$@"
