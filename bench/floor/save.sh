#!/usr/bin/env bash
# Not measured: the snapshot the restore rounds start from, saved on NODE at PATH through its member.
# Usage: FLOOR_ENV=facts save.sh NODE PATH
. "$(dirname "$0")/lib.sh"
on "$1" "etcdctl --cacert=$CA --cert=$CERT --key=$KEY --endpoints=$(v CLIENT "$1") snapshot save $2 >/dev/null 2>&1 && etcdutl snapshot status $2 >/dev/null"
