#!/usr/bin/env bash
# Not measured: leaves MIB MiB of free pages in every member's database (written as 1 MiB values
# under frag/, deleted, compacted), the starting point of a defrag round.
# Usage: FLOOR_ENV=facts fragment.sh VIA MIB
. "$(dirname "$0")/lib.sh"
via=$1 mib=$2
on "$via" "head -c 1048576 /dev/zero | tr '\\0' e > /tmp/frag-value"
for i in $(seq "$mib"); do on "$via" "etcdctl --cacert=$CA --cert=$CERT --key=$KEY --endpoints=$(v CLIENT "$via") put frag/$i < /tmp/frag-value" >/dev/null; done
ctl "$via" del --prefix frag/ >/dev/null
rev=$(ctl "$via" endpoint status -w fields | awk -F' : ' '/"Revision"/ { print $2; exit }')
ctl "$via" compact --physical "$rev" >/dev/null
