#!/usr/bin/env bash
# The lab's head node: PostgreSQL + Temporal server + UI + the etcd-runbooks worker and API, in a
# systemd-nspawn --boot container on the lab's bridge beside the etcd nodes, installed by the same
# deploy/head-node/install.sh an operator runs. Its power is cut like a node's (SIGKILL of its
# init). Sourced by lab/lab.
# shellcheck source=node.sh
source "$(dirname "${BASH_SOURCE[0]}")/node.sh"

HEAD_DIR=$LAB_STATE/head
HEAD_ADDR=$LAB_SUBNET_PREFIX.5
HEAD_MACHINE=$LAB_NAME-head
HEAD_NETNS=$LAB_NAME-head
HEAD_VETH=head-h$LAB_SUFFIX
HEAD_CG1=$LAB_CGROUP_V1/head
HEAD_CG2=$LAB_CGROUP_V2/head
# Where the head node sees the checkout, the Temporal builds and the lab's state (read only).
HEAD_APP=/opt/etcd-runbooks
HEAD_LAB=/srv/lab

head_running() { local p; p=$(cat "$HEAD_DIR/launcher.pid" 2>/dev/null || true); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
head_init_pid() {
  local pid
  [ -d "$HEAD_CG1/payload" ] || return 0
  for pid in $(find "$HEAD_CG1/payload" -name cgroup.procs -exec cat {} +); do
    if awk '/^NSpid:/ { exit ($NF == 1) ? 0 : 1 }' "/proc/$pid/status" 2>/dev/null; then echo "$pid"; return; fi
  done
}
# Runs a command inside the running head node (all its namespaces).
head_exec() { local init; init=$(head_init_pid); [ -n "$init" ] || die "the head node is not running"; nsenter -t "$init" -m -u -i -n -p -- "$@"; }

head_boot() {
  local base binds
  head_running && { log "head node already running"; return; }
  base=$(cat "$LAB_STATE/base")
  # A bare head node sees nothing of the host but the lab's state (its TLS material): no checkout,
  # no Node.js, no Temporal build. It runs what it installed from the release and Temporal bundle.
  binds=("--bind-ro=$LAB_STATE:$HEAD_LAB")
  [ -f "$HEAD_DIR/bare" ] || binds+=("--bind-ro=$LAB_REPO:$HEAD_APP" "--bind-ro=$(cat "$HEAD_DIR/temporal-build"):/opt/temporal-build"
    "--bind-ro=$(cat "$HEAD_DIR/temporal-cli"):/opt/temporal-cli/temporal" "--bind-ro=$(readlink -f "$(command -v node)"):/usr/local/bin/node")
  make_netns "$HEAD_NETNS" "$HEAD_VETH" "$HEAD_ADDR"
  remove_cgroup_tree "$HEAD_CG1"; remove_cgroup_tree "$HEAD_CG2"
  rm -rf "$HEAD_DIR"/.#upper* /run/systemd/nspawn/propagate/"$HEAD_MACHINE" 2>/dev/null || true
  mkdir -p "$HEAD_CG1" "$HEAD_CG2"
  setsid bash -c '
    echo $$ > "$1/cgroup.procs"; echo $$ > "$2/cgroup.procs"
    M=$3 B=$4 D=$5 N=$6 log=$5/console.log; shift 6
    exec systemd-nspawn --boot --register=no --keep-unit --machine="$M" -D "$B" \
      --overlay="$B:$D/upper:/" --network-namespace-path="/run/netns/$N" "$@" \
      --console=read-only >> "$log" 2>&1' launcher "$HEAD_CG1" "$HEAD_CG2" "$HEAD_MACHINE" "$base" "$HEAD_DIR" "$HEAD_NETNS" \
    "${binds[@]}" < /dev/null > /dev/null 2>&1 &
  echo $! > "$HEAD_DIR/launcher.pid"
}

# SIGKILL the head node's init: PostgreSQL, Temporal, the worker and the API die at once.
head_crash() {
  local init p i
  init=$(head_init_pid); p=$(cat "$HEAD_DIR/launcher.pid" 2>/dev/null || true)
  [ -n "$init" ] && kill -9 "$init"
  for i in $(seq 50); do head_running || break; sleep 0.1; done
  [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  remove_cgroup_tree "$HEAD_CG1"; remove_cgroup_tree "$HEAD_CG2"
}

# Waits until the head node's systemd answers (booting or booted): the install talks to it.
head_wait_systemd() {
  local i
  for i in $(seq 300); do
    # is-system-running exits non-zero while starting or degraded: judge by what it prints.
    [ -n "$(head_init_pid)" ] && [[ $(head_exec timeout 2 systemctl is-system-running 2>/dev/null || true) =~ ^(starting|running|degraded)$ ]] && return
    sleep 0.1
  done
  die "head node: systemd did not come up in 30 s (console: $HEAD_DIR/console.log)"
}

# lab head up [--tls] [--access FILE] [--bare [--release TARBALL]]: boot the head node and install
# etcd-runbooks on it with deploy/head-node/install.sh (the worker and API on the lab's inventory;
# --tls: Temporal with mTLS, certificates in $HEAD_DIR/pki). Without --bare the app runs from the
# checkout, mounted read-only at /opt/etcd-runbooks; with --bare the head node sees no checkout
# and no Node.js: the release tarball (npm run release, or TARBALL) is copied in, unpacked in
# /root and installed from there, as an operator would. Prints the head node's address.
head_up() {
  local tls="" access="" bare="" release="" base upper
  while [ $# -gt 0 ]; do
    case $1 in
      --tls) tls=1; shift;;
      --access) access=$2; shift 2;;
      --bare) bare=1; shift;;
      --release) release=$2; shift 2;;
      *) die "head up: unknown argument $1";;
    esac
  done
  [ -f "$LAB_STATE/inventory.yaml" ] || die "head up: the lab is not up ('lab up' first)"
  [ ! -d "$HEAD_DIR" ] || die "head up: a head node exists ('lab head down' first)"
  mkdir -p "$HEAD_DIR/upper"
  base=$(cat "$LAB_STATE/base"); upper=$HEAD_DIR/upper
  "$LAB_REPO/scripts/temporal-server-build.sh" > "$HEAD_DIR/temporal-build"
  "$LAB_REPO/scripts/temporal-cli.sh" > "$HEAD_DIR/temporal-cli"
  for d in /etc /etc/etcd-runbooks /var /var/lib; do mkdir -p "$upper$d"; done
  echo head > "$upper/etc/hostname"
  # No sshd on the head node (the lab reaches it with nsenter; it has no host key of its own).
  mkdir -p "$upper/etc/systemd/system" && ln -sf /dev/null "$upper/etc/systemd/system/ssh.service"
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$upper/etc/machine-id"; echo >> "$upper/etc/machine-id"
  # The lab's inventory and SSH key where an operator puts them (/etc/etcd-runbooks/inventory, /ssh),
  # root's: the install gives them to the services' users (the worker alone reads the key).
  mkdir -p "$upper/etc/etcd-runbooks/inventory" "$upper/etc/etcd-runbooks/ssh"
  install -m 600 "$SSH_KEY" "$upper/etc/etcd-runbooks/ssh/lab_ed25519"
  sed -e "s#$SSH_KEY#/etc/etcd-runbooks/ssh/lab_ed25519#g" -e "s#$LAB_STATE/#$HEAD_LAB/#g" "$LAB_STATE/inventory.yaml" > "$upper/etc/etcd-runbooks/inventory/$LAB_CLUSTER.yaml"
  # The services run as etcd-runbooks (worker) and etcd-runbooks-front (API, CLI service), as installed by default.
  local args=(--api-listen 0.0.0.0:8080 --retention 72h) bundle
  local installer=$HEAD_APP/deploy/head-node/install.sh
  if [ -n "$bare" ]; then
    # What an operator carries to the head node: the release and the Temporal bundle, with their checksums.
    [ -n "$release" ] || release=$("$LAB_REPO/scripts/release.sh" | tail -1)
    bundle=$("$LAB_REPO/scripts/temporal-server-build.sh" --bundle)
    touch "$HEAD_DIR/bare"
    mkdir -p "$upper/root"
    cp "$release" "$bundle" "$bundle.sha256" "$upper/root/"
    installer=/root/$(basename "$release" .tar.gz)/deploy/head-node/install.sh
    args+=(--temporal-bundle "/root/$(basename "$bundle")")
  else
    args+=(--binaries /opt/temporal-build --temporal-cli /opt/temporal-cli/temporal --node /usr/local/bin/node --app "$HEAD_APP")
  fi
  if [ -n "$tls" ]; then
    bash "$LAB_REPO/lab/pki.sh" "$HEAD_DIR/pki" "head=$HEAD_ADDR"
    mkdir -p "$HEAD_DIR/tls"
    cp "$HEAD_DIR/pki/ca.crt" "$HEAD_DIR/tls/ca.pem"
    cp "$HEAD_DIR/pki/head-server.crt" "$HEAD_DIR/tls/frontend.pem"; cp "$HEAD_DIR/pki/head-server.key" "$HEAD_DIR/tls/frontend-key.pem"
    cp "$HEAD_DIR/pki/head-peer.crt" "$HEAD_DIR/tls/system-worker.pem"; cp "$HEAD_DIR/pki/head-peer.key" "$HEAD_DIR/tls/system-worker-key.pem"
    cp "$HEAD_DIR/pki/client.crt" "$HEAD_DIR/tls/client.pem"; cp "$HEAD_DIR/pki/client.key" "$HEAD_DIR/tls/client-key.pem"
    args+=(--tls-dir "$HEAD_LAB/head/tls" --server-name head)
  fi
  [ -z "$access" ] || install -m 640 "$access" "$upper/etc/etcd-runbooks/access.yaml"
  printf '%s\n' "${args[@]}" > "$HEAD_DIR/install.args"
  head_boot
  head_wait_systemd
  [ -z "$bare" ] || head_exec tar -C /root -xzf "/root/$(basename "$release")" >> "$HEAD_DIR/install.log" 2>&1 || die "head up: unpacking $(basename "$release") failed"
  head_exec "$installer" "${args[@]}" >> "$HEAD_DIR/install.log" 2>&1 \
    || die "head up: install.sh failed: $(tail -5 "$HEAD_DIR/install.log")"
  log "head node up at $HEAD_ADDR (Temporal :7233, API :8080; install log $HEAD_DIR/install.log)"
  echo "$HEAD_ADDR"
}

# lab head reinstall DIR: run DIR/deploy/head-node/install.sh on the head node (an unpacked release
# there, e.g. a newer one) with the arguments `head up` used: the in-place upgrade an operator does.
head_reinstall() {
  local dir=${1:?usage: lab head reinstall DIR} args=()
  mapfile -t args < "$HEAD_DIR/install.args"
  head_exec "$dir/deploy/head-node/install.sh" "${args[@]}" >> "$HEAD_DIR/install.log" 2>&1 \
    || die "head reinstall: install.sh failed: $(tail -5 "$HEAD_DIR/install.log")"
}

head_down() {
  head_running && head_crash
  remove_cgroup_tree "$HEAD_CG1"; remove_cgroup_tree "$HEAD_CG2"
  ip netns del "$HEAD_NETNS" 2>/dev/null || true
  ip link del "$HEAD_VETH" 2>/dev/null || true
  rm -rf /run/systemd/nspawn/propagate/"$HEAD_MACHINE" "$HEAD_DIR" 2>/dev/null || true
}

head_cmd() {
  local sub=${1:-}; shift || true
  case $sub in
    up) head_up "$@" ;;
    down) head_down ;;
    crash) head_crash ;;
    start) head_boot; head_wait_systemd ;;
    exec) head_exec "$@" ;;
    reinstall) head_reinstall "$@" ;;
    addr) echo "$HEAD_ADDR" ;;
    *) die "usage: lab head up [--tls] [--access FILE] [--bare [--release TARBALL]] | reinstall DIR | down | crash | start | exec CMD... | addr" ;;
  esac
}
