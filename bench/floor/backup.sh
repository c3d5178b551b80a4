#!/usr/bin/env bash
# Floor of backup: a snapshot on the leader into the backup dir, its integrity checked, the newest
# KEEP kept. Usage: FLOOR_ENV=facts backup.sh VIA KEEP
. "$(dirname "$0")/lib.sh"
leader=$(leader_of "$1")
f="$BACKUP_DIR/floor-$(date -u +%Y%m%dT%H%M%S%N).db"
on "$leader" "install -d -m 0700 $BACKUP_DIR && etcdctl --cacert=$CA --cert=$CERT --key=$KEY --endpoints=$(v CLIENT "$leader") snapshot save $f.part >/dev/null 2>&1 && etcdutl snapshot status $f.part >/dev/null && mv $f.part $f && ls -1t $BACKUP_DIR/floor-*.db | tail -n +$(( $2 + 1 )) | xargs -r rm -f"
