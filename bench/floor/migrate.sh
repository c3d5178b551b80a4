#!/usr/bin/env bash
# Floor of migrate (reference 000 §8.3): a verified snapshot on the leader; the target added as a
# learner, started, promoted once in sync, healthy; leadership moved off the source if it leads;
# the source removed, its etcd stopped and data dir moved aside; then equal hashkv.
# Usage: FLOOR_ENV=facts migrate.sh VIA FROM TO   (VIA: a member's node other than FROM)
. "$(dirname "$0")/lib.sh"
via=$1 from=$2 to=$3
snapshot_on_leader "$via"
add_member "$via" "$to"
if [ "$(leader_of "$via")" = "$from" ]; then
  ENDPOINTS=$(v CLIENT "$from") ctl "$from" move-leader "$(member_id "$via" "$to")" >/dev/null
fi
retry_unhealthy ctl "$via" member remove "$(member_id "$via" "$from")" >/dev/null
set_aside "$from"
# shellcheck disable=SC2046
hashkv_equal "$via" $(member_nodes "$via")
