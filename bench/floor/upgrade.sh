#!/usr/bin/env bash
# Floor of upgrade (etcd docs "Upgrade etcd from v3.5 to v3.6", rolling one member at a time): a
# snapshot saved on the leader and checked; each follower stopped, put on release VERSION, started,
# serving that version and healthy before the next; leadership moved off the leader to the first
# follower, then the old leader the same; then equal hashkv.
# Usage: FLOOR_ENV=facts upgrade.sh VERSION NODES...   (the members' nodes)
. "$(dirname "$0")/lib.sh"
version=$1; shift
snapshot_on_leader "$1"
leader=$(leader_of "$1")
followers=()
for n in "$@"; do [ "$n" = "$leader" ] || followers+=("$n"); done
for n in "${followers[@]}"; do restart_on "$n" "$version"; done
if [ ${#followers[@]} -gt 0 ]; then
  ENDPOINTS=$(v CLIENT "$leader") ctl "$leader" move-leader "$(member_id "$leader" "${followers[0]}")" >/dev/null
fi
restart_on "$leader" "$version"
hashkv_equal "$@"
