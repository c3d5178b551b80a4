#!/usr/bin/env bash
# Floor of expand (reference 000 §8.1): a verified snapshot on the leader, then per node in order:
# member add --learner, environment file, start, promote once in sync, healthy; then equal hashkv.
# Usage: FLOOR_ENV=facts expand.sh VIA NODE...   (VIA: a node of the running cluster)
. "$(dirname "$0")/lib.sh"
via=$1; shift
leader=$(leader_of "$via")
on "$leader" "etcdctl --cacert=$CA --cert=$CERT --key=$KEY --endpoints=$(v CLIENT "$leader") snapshot save /var/tmp/floor.db >/dev/null 2>&1 && etcdutl snapshot status /var/tmp/floor.db >/dev/null"
for n in "$@"; do add_member "$via" "$n"; done
hashkv_equal "$via" "$@"
