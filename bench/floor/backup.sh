#!/usr/bin/env bash
# Floor of backup (reference 000 §4): a snapshot on the leader into the backup dir, its SHA-256
# trailer and status checked, the KV hash and key count at its revision read from the leader (what a
# restore drill compares against) and kept beside it, the newest KEEP kept.
# Usage: FLOOR_ENV=facts backup.sh VIA KEEP
. "$(dirname "$0")/lib.sh"
leader=$(leader_of "$1")
f="$BACKUP_DIR/floor-$(date -u +%Y%m%dT%H%M%S%N).db"
ep="--cacert=$CA --cert=$CERT --key=$KEY --endpoints=$(v CLIENT "$leader")"
on "$leader" "set -e; install -d -m 0700 $BACKUP_DIR; etcdctl $ep snapshot save $f.part >/dev/null 2>&1
  [ \"\$(tail -c 32 $f.part | od -An -v -tx1 | tr -d ' \n')\" = \"\$(head -c -32 $f.part | sha256sum | cut -d' ' -f1)\" ]
  rev=\$(etcdutl -w fields snapshot status $f.part | awk -F' : ' '/\"Revision\"/ { print \$2 }')
  { etcdctl $ep -w fields endpoint hashkv --rev=\$rev; etcdctl $ep -w json get '' --prefix --limit=1 --rev=\$rev | grep -o '\"count\":[0-9]*'; } > $f.meta
  mv $f.part $f; ls -1t $BACKUP_DIR/floor-*.db | tail -n +$(( $2 + 1 )) | while read -r o; do rm -f \$o \$o.meta; done"
