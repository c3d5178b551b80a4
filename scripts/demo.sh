#!/usr/bin/env bash
# The demo, from a fresh clone (as root): installs what is missing, starts the Temporal dev server,
# boots a 3-node lab (node1 a 1-member etcd cluster with TLS), runs a worker, writes some keys,
# expands the cluster from 1 to 3 members with live progress; expand ends with the member table.
# The lab and the server stay up afterwards: `bin/etcd-runbooks lab down`, `scripts/temporal-server.sh stop`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
cli=bin/etcd-runbooks
step() { printf '\n== %s\n' "$*"; }

start=$(date +%s)
step "installing what the demo uses (npm test installs the rest)"; scripts/install-deps.sh --demo
step "Temporal dev server"; scripts/temporal-server.sh start
step "lab: 3 Debian nodes (systemd-nspawn), node1 runs a 1-member etcd cluster"
"$cli" lab down; "$cli" lab up --nodes 3
inventory=$("$cli" lab inventory)
echo "inventory: $inventory"

step "worker"
mkdir -p .state
# The demo's own front end key and trust file (an install makes them in /etc/etcd-runbooks): the
# worker acts only on runs signed by a key it trusts, the CLI signs as the OS user.
"$cli" keys init --dir "$PWD/.state/demo-keys" --group root >/dev/null
export ETCD_RUNBOOKS_TRUST=$PWD/.state/demo-keys/trust.yaml ETCD_RUNBOOKS_SIGNING_KEY=$PWD/.state/demo-keys/keys/cli.pem
"$cli" worker --inventory "$inventory" > .state/demo-worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT

step "writing 100 keys to the 1-member cluster"
"$cli" lab ssh node1 'for i in $(seq -w 1 100); do ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/client.crt --key=/etc/etcd/pki/client.key put demo/key-$i value-$i >/dev/null; done; echo wrote 100 keys'

step "status before"; "$cli" status --inventory "$inventory" || true
step "expand: add node2, then node3"; "$cli" expand --inventory "$inventory" --add node2,node3
step "demo done in $(( $(date +%s) - start )) s"
