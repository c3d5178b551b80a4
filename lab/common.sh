#!/usr/bin/env bash
# Shared settings for the lab scripts. Sourced, never run.
# The lab is a set of real Debian nodes (systemd-nspawn --boot), each in its own
# network namespace on a host bridge. It is test infrastructure and a rehearsal
# ground for runbooks; nothing in the product's code path depends on it.
set -euo pipefail

LAB_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Several labs can run at once (one per test worker): ETCD_RUNBOOKS_LAB_ID=K (0-9) gives lab K its
# own state dir, names, bridge and subnet 10.213.K.0/24. Lab 0 keeps the plain names.
LAB_ID=${ETCD_RUNBOOKS_LAB_ID:-0}
[[ $LAB_ID =~ ^[0-9]$ ]] || { echo "[lab] error: ETCD_RUNBOOKS_LAB_ID must be 0-9" >&2; exit 1; }
LAB_SUFFIX=$([ "$LAB_ID" = 0 ] || echo "$LAB_ID")
LAB_STATE=${ETCD_RUNBOOKS_STATE:-$LAB_REPO/.state}/lab$LAB_SUFFIX
# Heavy builds (the node root filesystem) are cached outside the clone, so CI and later clones reuse them.
LAB_CACHE=${ETCD_RUNBOOKS_LAB_CACHE:-/var/cache/etcd-runbooks/lab}
LAB_NAME=erlab$LAB_SUFFIX
LAB_BRIDGE=erlab$([ "$LAB_ID" = 0 ] && echo 0 || echo "${LAB_ID}br")
LAB_SUBNET_PREFIX=10.213.$LAB_ID
LAB_HOST_ADDR=$LAB_SUBNET_PREFIX.1
LAB_SUITE=bookworm
LAB_CLUSTER=lab
# Packages inside every node; part of the root filesystem cache key.
# containerd .. kmod: what kubelet and kubeadm need on a control-plane node (lab/kube.sh); off elsewhere.
# postgresql: the lab's head node (lab/head.sh, deploy/head-node/install.sh); off elsewhere.
LAB_PACKAGES=systemd,systemd-sysv,dbus,openssh-server,etcd-server,etcd-client,iproute2,ca-certificates,procps,curl,containerd,runc,iptables,conntrack,socat,ethtool,ebtables,kmod,postgresql
LAB_CGROUP_V1=/sys/fs/cgroup/systemd/$LAB_NAME
LAB_CGROUP_V2=/sys/fs/cgroup/unified/$LAB_NAME

# etcd versions a lab node can run: 3.4 is Debian bookworm's package (3.4.23; etcd 3.4 cannot be
# fetched as a Go module), 3.5 and 3.6 are built from Go modules by lab/etcd-build.sh (pinned here).
LAB_ETCD_DEFAULT=3.6
etcd_release() {
  case $1 in
    3.4) echo debian-3.4.23;;
    3.5) echo v3.5.35;;
    3.6) echo v3.6.16;;
    *) die "etcd version '$1' is not one the lab runs (3.4, 3.5 or 3.6)";;
  esac
}

# Kubernetes of the lab's control-plane nodes (lab/kube.sh). Stay on 1.34: kubelet 1.35 refuses
# cgroup v1 by default, and these machines are cgroup v1 hybrid.
LAB_K8S_VERSION=v1.34.4

log() { printf '[lab] %s\n' "$*" >&2; }
die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

# node_addr NAME -> 10.213.0.(10+N) for nodeN
node_addr() {
  local n=${1#node}
  [[ $n =~ ^[0-9]+$ ]] && (( n >= 1 && n <= 200 )) || die "bad node name '$1' (want node1..node200)"
  echo "$LAB_SUBNET_PREFIX.$((10 + n))"
}
node_dir() { echo "$LAB_STATE/nodes/$1"; }
# nspawn machine name: unique across labs (nspawn keeps per-machine state under /run/systemd/nspawn).
node_machine() { echo "$LAB_NAME-$1"; }
node_netns() { echo "$LAB_NAME-$1"; }
node_veth() { echo "$1-h$LAB_SUFFIX"; }
node_cg1() { echo "$LAB_CGROUP_V1/$1"; }
node_cg2() { echo "$LAB_CGROUP_V2/$1"; }
lab_nodes() { [ -d "$LAB_STATE/nodes" ] && ls "$LAB_STATE/nodes" | sort -V || true; }
require_root() { [ "$(id -u)" = 0 ] || die "the lab needs root (network namespaces, nspawn, cgroups)"; }
