#!/usr/bin/env bash
# Floor of replace (reference 000 §8.2): a verified snapshot on the leader; the failed member
# removed; etcd stopped and its data dir moved aside on the failed node; the replacement added as a
# learner, started, promoted once in sync, healthy; then equal hashkv.
# Usage: FLOOR_ENV=facts replace.sh VIA FAILED REPLACEMENT   (VIA: a healthy member's node)
. "$(dirname "$0")/lib.sh"
via=$1 failed=$2 replacement=$3
snapshot_on_leader "$via"
retry_unhealthy ctl "$via" member remove "$(member_id "$via" "$failed")" >/dev/null
set_aside "$failed"
add_member "$via" "$replacement"
# shellcheck disable=SC2046
hashkv_equal "$via" $(member_nodes "$via")
