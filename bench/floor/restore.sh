#!/usr/bin/env bash
# Floor of restore (reference 000 §8.4, etcd "Disaster recovery"): the snapshot's integrity checked;
# a restore into a scratch dir on the restore node (new 1-member cluster, fresh token); etcd stopped,
# disabled and masked on every member's node and each data dir moved aside; the restored dir renamed
# into place and started; the others added one at a time as learners and promoted; equal hashkv.
# Usage: FLOOR_ENV=facts restore.sh SNAPSHOT_PATH RESTORE_ON OTHER...   (the snapshot on RESTORE_ON)
. "$(dirname "$0")/lib.sh"
snap=$1 first=$2; shift 2
name=$(v NAME "$first") peer=$(v PEER "$first") d=$(v DATA "$first")
on "$first" "etcdutl snapshot status $snap >/dev/null && rm -rf $d.floor-restore && etcdutl snapshot restore $snap --name=$name --initial-cluster=$name=$peer --initial-cluster-token=floor-$(date +%s%N) --initial-advertise-peer-urls=$peer --data-dir=$d.floor-restore >/dev/null 2>&1 && chown -R etcd:etcd $d.floor-restore"
for n in "$first" "$@"; do on "$n" "systemctl disable --now --quiet $UNIT && systemctl mask --runtime --quiet $UNIT"; done
for n in "$first" "$@"; do set_aside "$n"; done
on "$first" "rmdir $d && mv $d.floor-restore $d"
env_file "$first" "$name=$peer" new
on "$first" "systemctl unmask --runtime --quiet $UNIT && systemctl enable --now --quiet $UNIT"
until_ok 120 ctl "$first" endpoint health
for n in "$@"; do
  on "$n" "systemctl unmask --runtime --quiet $UNIT"
  add_member "$first" "$n"
done
hashkv_equal "$first" "$@"
