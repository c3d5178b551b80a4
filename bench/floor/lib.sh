# Shared by the bare-script floors (bench/floor/*.sh): the etcd work of a runbook and nothing else,
# over one multiplexed SSH connection per node. Sourced after the facts file the harness writes
# (bench/runbooks.ts: FLOOR_ENV, shell assignments from the lab's inventory):
#   SSH_KEY KNOWN_HOSTS CA CERT KEY SERVER_CERT SERVER_KEY PEER_CERT PEER_KEY ENV_FILE UNIT BACKUP_DIR
#   NODES ("node1 node2 ...") and per node ADDR_<n> NAME_<n> PEER_<n> CLIENT_<n> DATA_<n>
# shellcheck disable=SC1090
set -euo pipefail
. "${FLOOR_ENV:?FLOOR_ENV names the facts file}"
MUX_DIR=${MUX_DIR:-$(mktemp -d /tmp/floor-mux.XXXXXX)}

v() { local n="$1_$2"; printf '%s' "${!n}"; }

# on NODE CMD: one shell command on NODE, over the node's persistent SSH connection.
on() {
  local node=$1; shift
  ssh -q -i "$SSH_KEY" -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes -o BatchMode=yes \
    -o ControlMaster=auto -o ControlPath="$MUX_DIR/%h" -o ControlPersist=120 "root@$(v ADDR "$node")" "$@"
}

# ctl NODE ARGS: etcdctl on NODE against ENDPOINTS (default: NODE's client URL).
ctl() {
  local node=$1; shift
  on "$node" "etcdctl --cacert=$CA --cert=$CERT --key=$KEY --endpoints=${ENDPOINTS:-$(v CLIENT "$node")} $*"
}

# env_file NODE INITIAL_CLUSTER STATE: the member's environment file, as the systemd runtime writes it.
env_file() {
  local n=$1 client; client=$(v CLIENT "$1")
  on "$n" "cat > $ENV_FILE" <<EOT
ETCD_NAME=$(v NAME "$n")
ETCD_DATA_DIR=$(v DATA "$n")
ETCD_LISTEN_PEER_URLS=$(v PEER "$n")
ETCD_LISTEN_CLIENT_URLS=$client,https://127.0.0.1:${client##*:}
ETCD_ADVERTISE_CLIENT_URLS=$client
ETCD_INITIAL_ADVERTISE_PEER_URLS=$(v PEER "$n")
ETCD_INITIAL_CLUSTER=$2
ETCD_INITIAL_CLUSTER_STATE=$3
ETCD_CERT_FILE=$SERVER_CERT
ETCD_KEY_FILE=$SERVER_KEY
ETCD_TRUSTED_CA_FILE=$CA
ETCD_CLIENT_CERT_AUTH=true
ETCD_PEER_CERT_FILE=$PEER_CERT
ETCD_PEER_KEY_FILE=$PEER_KEY
ETCD_PEER_TRUSTED_CA_FILE=$CA
ETCD_PEER_CLIENT_CERT_AUTH=true
EOT
}

# leader_of NODE: the node whose member leads, asked through NODE (retried for 30 s: an election).
leader_of() {
  local via=$1 id n deadline=$((SECONDS + 30))
  while (( SECONDS < deadline )); do
    id=$(ctl "$via" endpoint status -w fields 2>/dev/null | awk -F' : ' '/"Leader"/ { print $2; exit }')
    for n in $NODES; do
      if ctl "$n" endpoint status -w fields 2>/dev/null | grep -q "\"MemberID\" : $id\$"; then echo "$n"; return; fi
    done
    sleep 0.2
  done
  echo "no leader seen through $via" >&2
  return 1
}

# until_ok SECONDS CMD...: retries CMD every 0.2 s until it succeeds.
until_ok() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || { echo "timed out: $*" >&2; return 1; }
    sleep 0.2
  done
}

# add_member VIA NODE: member add --learner, environment file, start, promote once in sync, healthy.
add_member() {
  local via=$1 n=$2 out id
  out=$(retry_unhealthy ctl "$via" member add "$(v NAME "$n")" --learner --peer-urls="$(v PEER "$n")")
  id=$(ctl "$via" member list | awk -F', ' -v peer="$(v PEER "$n")" '$4 == peer { print $1 }')
  env_file "$n" "$(sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p' <<<"$out")" existing
  start_member "$n"
  # etcd refuses to promote a learner that is not in sync with the leader: that is the catch-up wait.
  until_ok 600 ctl "$via" member promote "$id"
  until_ok 120 ctl "$n" endpoint health
}

# start_member NODE: starts etcd on NODE and waits until it serves. The unit is Type=notify, so
# systemd calls it active once etcd has published itself and serves clients (polled every 0.2 s;
# an endpoint read before that hangs until its dial timeout). A member that joined through the
# leader's snapshot sometimes had its publish request applied inside that snapshot (etcd issue
# #16436): it then waits a 7 s publish timeout, and etcd 3.6 may loop on "too many requests" after
# it. The runbook's startMember restarts such a member once; the floor does the same, with the same
# signs (its log since the start shows the snapshot applied and no publish of its own for 0.5 s; or it
# is still not active after 30 s), so the ratio does not measure etcd's luck.
start_member() {
  local n=$1 started=$SECONDS seen=0 restarted=
  on "$n" "systemctl enable --quiet $UNIT && systemctl start --no-block $UNIT"
  until [ "$(on "$n" "systemctl is-active $UNIT" 2>/dev/null)" = active ]; do
    (( SECONDS - started < 120 )) || { echo "timed out: $n did not start" >&2; return 1; }
    if [ -z "$restarted" ] && on "$n" "journalctl -u $UNIT -n 600 -o cat | awk '/\"msg\":\"starting etcd server\"/ { s = 0; p = 0 } /\"msg\":\"applied snapshot\"/ { s = 1 } /\"msg\":\"published local member to cluster through raft\"/ { p = 1 } END { exit !(s && !p) }'"; then
      (( seen )) || seen=$(date +%s%N)
      (( $(date +%s%N) - seen < 500000000 )) || { on "$n" "systemctl restart --no-block $UNIT"; restarted=1; }
    else
      seen=0
    fi
    if [ -z "$restarted" ] && (( SECONDS - started > 30 )); then on "$n" "systemctl restart --no-block $UNIT"; restarted=1; fi
    sleep 0.2
  done
  until_ok 30 ctl "$n" endpoint status
}

# hashkv_equal NODES...: every member's hashkv at one revision (the first node's current one) is equal.
hashkv_equal() {
  local eps="" n rev
  for n in "$@"; do eps+="${eps:+,}$(v CLIENT "$n")"; done
  rev=$(ctl "$1" endpoint status -w fields | awk -F' : ' '/"Revision"/ { print $2; exit }')
  ENDPOINTS=$eps ctl "$1" endpoint hashkv --rev="$rev" -w fields | awk -F' : ' '/"Hash"/ { print $2 }' | sort -u | awk 'END { exit NR == 1 ? 0 : 1 }'
}

# retry_unhealthy CMD...: CMD, retried for up to 60 s while etcd answers "unhealthy cluster" (a
# membership change within 5 s of the last one: etcd's HealthInterval). Prints CMD's output.
retry_unhealthy() {
  local deadline=$((SECONDS + 60)) out
  until out=$("$@" 2>&1); do
    grep -q "unhealthy cluster" <<<"$out" && (( SECONDS < deadline )) || { echo "$out" >&2; return 1; }
    sleep 0.2
  done
  printf '%s\n' "$out"
}

# member_id VIA NODE: NODE's member ID (hex), from the member list VIA's etcd gives; empty if none.
member_id() {
  ctl "$1" member list | awk -F', ' -v peer="$(v PEER "$2")" 'index($4, peer) { print $1 }'
}

# member_nodes VIA: the nodes whose peer URL is in the member list VIA's etcd gives.
member_nodes() {
  local list n
  list=$(ctl "$1" member list)
  for n in $NODES; do grep -qF ", $(v PEER "$n")," <<<"$list" && printf '%s ' "$n"; done
}

# snapshot_on_leader VIA: a snapshot saved on the leader's node, its integrity checked.
snapshot_on_leader() {
  local leader; leader=$(leader_of "$1")
  on "$leader" "etcdctl --cacert=$CA --cert=$CERT --key=$KEY --endpoints=$(v CLIENT "$leader") snapshot save /var/tmp/floor.db >/dev/null 2>&1 && etcdutl snapshot status /var/tmp/floor.db >/dev/null"
}

# set_aside NODE: etcd stopped and disabled on NODE, its data dir moved aside, an empty one in its place.
set_aside() {
  local d; d=$(v DATA "$1")
  on "$1" "systemctl disable --now --quiet $UNIT; mv $d $d.aside-floor-$(date -u +%s%N) && install -d -o etcd -g etcd -m 0700 $d"
}

# use_release NODE VERSION: NODE's unit runs <RELEASES_DIR>/vVERSION/etcd with the unit's own
# arguments, through a drop-in (as the systemd runtime's useRelease writes it); not restarted.
use_release() {
  on "$1" "args=\$(systemctl show -p ExecStart --value $UNIT | sed -n 's/.*argv\\[\\]=[^ ]* *\\(.*\\) ; ignore_errors=.*/\\1/p' | head -n 1)
    d=/etc/systemd/system/$UNIT.d; mkdir -p \$d && rm -f \$d/zz-etcd-runbooks-release.conf.before-v*
    printf '[Service]\\nExecStart=\\nExecStart=%s %s\\n' $RELEASES_DIR/v$2/etcd \"\$args\" > \$d/zz-etcd-runbooks-release.conf && systemctl daemon-reload"
}

# serves_version NODE VERSION: NODE's member answers on its client URL and runs etcd VERSION.
serves_version() {
  ctl "$1" endpoint status -w fields | grep -q "^\"Version\" : \"$2\"\$"
}

# restart_on NODE VERSION: NODE's member stopped, put on release VERSION, started, then serving
# that version and healthy.
restart_on() {
  on "$1" "systemctl stop $UNIT"
  use_release "$1" "$2"
  start_member "$1"
  until_ok 60 serves_version "$1" "$2"
  until_ok 60 ctl "$1" endpoint health
}
