#!/usr/bin/env bash
# Installs what etcd-runbooks needs on a Debian host, skipping what is already there:
#  - Debian packages for the lab (debootstrap, systemd-nspawn, iproute2, zstd, openssl, ssh-keygen),
#    and prometheus for promtool (the tests check deploy/prometheus with it)
#  - node modules (the versions in package-lock.json)
#  - the Temporal CLI with its dev server (scripts/temporal-cli.sh builds it with Go if missing)
#  - Temporal server 1.29.1, temporal-sql-tool and UI 2.42.1 for the lab's head node
#    (scripts/temporal-server-build.sh; about 8 minutes on a new machine, then cached)
#  - etcd 3.5 and 3.6 binaries for the lab (lab/etcd-build.sh builds them with Go if missing)
#  - Kubernetes v1.34.4 binaries and control-plane images for the lab's kubeadm nodes
#    (lab/k8s-build.sh, lab/k8s-images.sh; about 10 minutes on a new machine, then cached)
# Needs root for apt-get (the lab needs root anyway). `--demo`: only what scripts/demo.sh uses.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

packages=(debootstrap systemd-container iproute2 zstd openssl openssh-client ca-certificates nftables python3 python3-venv prometheus)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "install-deps: need root to apt-get install ${missing[*]}" >&2; exit 1; }
  echo "install-deps: apt-get install ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install`, not `npm ci`: it installs the locked versions too, but does not refuse the lock
  # for leaving out other platforms' optional packages (@swc/core-darwin-*, ...) that this
  # machine's registry does not serve.
  echo "install-deps: npm install (locked versions)" >&2
  npm install --no-fund --no-audit --loglevel=error
fi

"$repo/scripts/temporal-cli.sh" >/dev/null
# --demo: only what the demo uses (the Temporal CLI, whose dev server it runs, and the lab's default
# etcd; `lab up` makes the root filesystem). The rest is for the tests and the head node.
if [ "${1:-}" = --demo ]; then
  source "$repo/lab/common.sh"
  "$repo/lab/etcd-build.sh" "$(etcd_release "$LAB_ETCD_DEFAULT")" >/dev/null
  exit 0
fi
# The production Temporal server, SQL tool and UI of the head node (deploy/head-node, lab head):
# built with Go once per version, cached outside the clone.
"$repo/scripts/temporal-server-build.sh" >/dev/null

# etcd 3.5 and 3.6 for the lab, built from Go modules once per version and cached outside the clone
# (lab/etcd-build.sh); building here keeps the minutes of a first build out of the tests' timeouts.
source "$repo/lab/common.sh"
for v in 3.5 3.6; do "$repo/lab/etcd-build.sh" "$(etcd_release "$v")" >/dev/null; done
# Kubernetes for the lab's control-plane nodes (lab up --control-planes): binaries from Go modules
# and images made without a registry, cached outside the clone by version.
"$repo/lab/k8s-images.sh" "$LAB_K8S_VERSION" >/dev/null
# etcd images for the stacked topology (lab up --stacked): kubeadm's local etcd as a static pod.
for v in 3.5 3.6; do "$repo/lab/etcd-image.sh" "$(etcd_release "$v")" >/dev/null; done
# Python tools the tests use, each in a virtualenv of its own cached by version (scripts/python-tool.sh):
# schemathesis checks the HTTP API against its OpenAPI document; Synapse is the Matrix homeserver of
# the Matrix bridge's tests (test/support/synapse.ts).
"$repo/scripts/python-tool.sh" schemathesis 4.32.5 >/dev/null
"$repo/scripts/python-tool.sh" matrix-synapse 1.163.2 >/dev/null
