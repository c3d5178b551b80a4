#!/usr/bin/env bash
# Floor of defrag (etcd docs "Maintenance: Defragmentation"): each follower's member defragmented
# online, one at a time, serving again before the next; leadership moved off the leader to the
# first follower, then the leader defragmented; then equal hashkv.
# Usage: FLOOR_ENV=facts defrag.sh NODES...   (the members' nodes)
. "$(dirname "$0")/lib.sh"
leader=$(leader_of "$1")
followers=()
for n in "$@"; do [ "$n" = "$leader" ] || followers+=("$n"); done
for n in "${followers[@]}"; do
  ENDPOINTS=$(v CLIENT "$n") ctl "$n" defrag >/dev/null
  until_ok 60 ctl "$n" endpoint health
done
if [ ${#followers[@]} -gt 0 ]; then
  ENDPOINTS=$(v CLIENT "$leader") ctl "$leader" move-leader "$(member_id "$leader" "${followers[0]}")" >/dev/null
fi
ENDPOINTS=$(v CLIENT "$leader") ctl "$leader" defrag >/dev/null
until_ok 60 ctl "$leader" endpoint health
hashkv_equal "$@"
