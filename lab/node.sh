#!/usr/bin/env bash
# One lab node's lifecycle: network, cgroup, boot, faults. Sourced by lab/lab.
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

launcher_pid() { cat "$(node_dir "$1")/launcher.pid" 2>/dev/null || true; }
node_running() { local p; p=$(launcher_pid "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# The container's init: the process in the payload cgroup whose PID inside its namespace is 1.
node_init_pid() {
  local payload pid
  payload=$(node_cg1 "$1")/payload
  [ -d "$payload" ] || return 0
  # systemd inside the node moves itself to payload/init.scope: search the whole subtree.
  for pid in $(find "$payload" -name cgroup.procs -exec cat {} +); do
    if awk '/^NSpid:/ { exit ($NF == 1) ? 0 : 1 }' "/proc/$pid/status" 2>/dev/null; then echo "$pid"; return; fi
  done
}

ensure_bridge() {
  ip link show "$LAB_BRIDGE" >/dev/null 2>&1 && return
  ip link add "$LAB_BRIDGE" type bridge
  ip addr add "$LAB_HOST_ADDR/24" dev "$LAB_BRIDGE"
  ip link set "$LAB_BRIDGE" up
}

# make_netns NS VETH ADDR: a network namespace with eth0 at ADDR on the lab's bridge (host side VETH).
make_netns() {
  local ns=$1 veth=$2 addr=$3
  ensure_bridge
  ip netns list | grep -qw "^$ns" && return
  # A veth can outlive its namespace's name (the kernel may still hold the namespace): delete it.
  ip link del "$veth" 2>/dev/null || true
  ip netns add "$ns"
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip link set "$veth" master "$LAB_BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$LAB_HOST_ADDR"
}

ensure_netns() { make_netns "$(node_netns "$1")" "$(node_veth "$1")" "$(node_addr "$1")"; }

# Remove a cgroup directory and its children, deepest first, killing what is left in them.
remove_cgroup_tree() {
  local root=$1 d
  [ -d "$root" ] || return 0
  for d in $(find "$root" -mindepth 0 -type d | sort -r); do
    [ -f "$d/cgroup.procs" ] && xargs -r kill -9 < "$d/cgroup.procs" 2>/dev/null || true
  done
  sleep 0.2
  for d in $(find "$root" -mindepth 0 -type d | sort -r); do rmdir "$d" 2>/dev/null || true; done
}

# The per-controller cgroup dirs of a control-plane node (lab/kube.sh), recorded when it booted.
node_kube_cgroups() { cat "$(node_dir "$1")/cgroups" 2>/dev/null || true; }
remove_node_cgroups() {
  local d
  remove_cgroup_tree "$(node_cg1 "$1")"; remove_cgroup_tree "$(node_cg2 "$1")"
  for d in $(node_kube_cgroups "$1"); do remove_cgroup_tree "$d"; done
}

# Boot NODE in the background. The launcher loops on exit code 133 (a reboot inside the node).
# A control-plane node (lab/kube.sh) also gets its own cgroup in every v1 controller, a cgroup
# namespace and the nspawn options kubelet and containerd need.
node_start() {
  local node=$1 dir base opts=--capability=CAP_NET_ADMIN cgns="" kubecg=""
  node_running "$node" && { log "$node already running"; return; }
  dir=$(node_dir "$node"); base=$(cat "$LAB_STATE/base")
  ensure_bridge; ensure_netns "$node"
  remove_node_cgroups "$node"
  rm -rf "$dir"/.#upper* /run/systemd/nspawn/propagate/"$(node_machine "$node")" 2>/dev/null || true
  mkdir -p "$(node_cg1 "$node")" "$(node_cg2 "$node")"
  if is_control_plane "$node"; then opts=$(kube_nspawn_opts "$node"); cgns=SYSTEMD_NSPAWN_USE_CGNS=1; kubecg=$(kube_cgroups "$node"); fi
  setsid bash -c '
    echo $$ > "$1/cgroup.procs"; echo $$ > "$2/cgroup.procs"
    for d in $9; do echo $$ > "$d/payload/cgroup.procs"; done
    while :; do
      env $8 systemd-nspawn --boot --register=no --keep-unit --machine="$3" -D "$4" \
        --overlay="$4:$5/upper:/" --network-namespace-path="/run/netns/$6" \
        $7 --console=read-only >> "$5/console.log" 2>&1
      rc=$?; echo "nspawn exited $rc" >> "$5/console.log"
      [ "$rc" = 133 ] || break
    done' launcher "$(node_cg1 "$node")" "$(node_cg2 "$node")" "$(node_machine "$node")" "$base" "$dir" "$(node_netns "$node")" \
    "$opts" "$cgns" "$kubecg" < /dev/null > /dev/null 2>&1 &
  echo $! > "$dir/launcher.pid"
}

# SIGKILL the node's init: every process of the node dies at once, like a power cut.
node_crash() {
  local node=$1 init p i
  init=$(node_init_pid "$node")
  [ -n "$init" ] && kill -9 "$init"
  p=$(launcher_pid "$node")
  for i in $(seq 50); do node_running "$node" || break; sleep 0.1; done
  [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  remove_node_cgroups "$node"
}

node_freeze() { echo "$2" > "$(node_cg2 "$1")/payload/cgroup.freeze"; }

# Block TCP ports of a node from the network (its loopback still works), in its own netns:
# ssh = port 22 only (etcd keeps serving); etcd = client and peer ports both ways (sshd keeps answering).
node_block() {
  local ns ports
  ns=$(node_netns "$1")
  case $2 in ssh) ports=22;; etcd) ports=2379,2380;; *) die "block: want ssh or etcd, got '$2'";; esac
  ip netns exec "$ns" nft add table inet lab_fault
  ip netns exec "$ns" nft add chain inet lab_fault in_"$2" '{ type filter hook input priority 0; }'
  ip netns exec "$ns" nft add rule inet lab_fault in_"$2" iifname eth0 tcp dport "{ $ports }" drop
  if [ "$2" = etcd ]; then
    # Both ports, both directions, both ends of a connection: etcd's peer streams are dialled by
    # the receiver and written by the sender, so dropping only dport 2380 leaves established
    # streams half open and enough votes pass for cut-off members to elect a leader (seen on 3.6).
    ip netns exec "$ns" nft add rule inet lab_fault in_etcd iifname eth0 tcp sport "{ 2379, 2380 }" drop
    ip netns exec "$ns" nft add chain inet lab_fault out_etcd '{ type filter hook output priority 0; }'
    ip netns exec "$ns" nft add rule inet lab_fault out_etcd oifname eth0 tcp dport "{ 2379, 2380 }" drop
    ip netns exec "$ns" nft add rule inet lab_fault out_etcd oifname eth0 tcp sport "{ 2379, 2380 }" drop
  fi
}
# Cut one direction of client traffic: NODE's connections to PEER's client port (2379) are dropped,
# in NODE's netns; every other node still reaches PEER, and raft (2380) is untouched. A member that
# only some observers can see. unblock NODE lifts it.
node_cut() {
  local ns
  ns=$(node_netns "$1")
  ip netns exec "$ns" nft add table inet lab_fault
  ip netns exec "$ns" nft add chain inet lab_fault out_cut '{ type filter hook output priority 0; }'
  ip netns exec "$ns" nft add rule inet lab_fault out_cut ip daddr "$(node_addr "$2")" tcp dport 2379 drop
}
node_unblock() { ip netns exec "$(node_netns "$1")" nft delete table inet lab_fault 2>/dev/null || true; }

# Mount a SIZE tmpfs at PATH inside the running node (a small disk that fills up); etcd owns it
# when PATH is under /var/lib/etcd. Gone at the node's next boot, or with 'bigdisk'.
node_smalldisk() {
  local node=$1 path=$2 size=$3 init owner=root
  init=$(node_init_pid "$node"); [ -n "$init" ] || die "$node is not running"
  case $path in /var/lib/etcd*) owner=etcd;; esac
  nsenter -t "$init" -m -r -- sh -c 'mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" && chown "$3:$3" "$1"' sh "$path" "$size" "$owner"
}
node_bigdisk() {
  local init; init=$(node_init_pid "$1"); [ -n "$init" ] || die "$1 is not running"
  nsenter -t "$init" -m -r -- umount "$2"
}
node_link() { ip link set "$(node_veth "$1")" "$2"; }

node_cleanup() {
  local node=$1
  node_running "$node" && node_crash "$node"
  remove_node_cgroups "$node"
  ip netns del "$(node_netns "$node")" 2>/dev/null || true
  ip link del "$(node_veth "$node")" 2>/dev/null || true
  rm -rf /run/systemd/nspawn/propagate/"$(node_machine "$node")" 2>/dev/null || true
}
