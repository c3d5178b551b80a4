#!/usr/bin/env bash
# Kubernetes control-plane nodes of the lab: kubelet, containerd and kubeadm-made static pods for
# kube-apiserver, kube-controller-manager and kube-scheduler. Two topologies:
# - "external etcd" (reference 000 §6): the lab's etcd members (systemd units) are
#   etcd.external.endpoints; a control-plane node may also be an etcd node (BCM's head node is both).
# - "stacked" (reference 001): etcd is kubeadm's static pod on every control-plane node
#   (lab.local/etcd:<X.Y.Z>-0 from lab/etcd-image.sh); node1 runs kubeadm init, the next ones join
#   with --control-plane, the rest are ready to join (kubelet and containerd up, no kubeadm state).
# Sourced by lab/lab.
# Binaries: lab/k8s-build.sh; images without a registry: lab/k8s-images.sh (cached outside the clone).
# shellcheck source=node.sh
source "$(dirname "${BASH_SOURCE[0]}")/node.sh"

KUBE_OVERLAY=$LAB_REPO/lab/kube/overlay
# Where BCM keeps the kubeadm config of a cluster's control plane (reference 000 §6).
KUBEADM_CONFIG=/root/.kube/kubeadm-init-$LAB_CLUSTER.yaml
KUBE_STATE=$LAB_STATE/kube
# cgroup v1 controllers a control-plane node gets its own subtree in (kubelet creates kubepods there).
KUBE_CONTROLLERS="cpu cpuacct cpuset memory devices freezer blkio pids"

is_control_plane() { [ -f "$(node_dir "$1")/control-plane" ]; }

# Files for a control-plane node, into its upper layer before it boots: kubelet, kubeadm, kubectl,
# containerd's config, the units (enabled) and the in-node setup of lab/kube/overlay.
# The nodes share the host's user namespace, so every kubelet, containerd and systemd in every lab
# counts against root's inotify limits. At Debian's 128 instances, a fourth control-plane node
# (or a second lab) leaves containerd without its CNI watcher: its CRI plugin does not load and
# kubeadm answers "unknown service runtime.v1.RuntimeService". Raised, never lowered (kind's
# known-issues page gives the same fix).
kube_host_limits() {
  local key want have
  for key in fs.inotify.max_user_instances=8192 fs.inotify.max_user_watches=524288; do
    want=${key#*=}; have=$(sysctl -n "${key%=*}")
    (( have >= want )) || sysctl -q -w "$key"
  done
}

kube_provision() {
  local node=$1 base=$2 upper bins f d
  kube_host_limits
  upper=$(node_dir "$node")/upper
  bins=$("$LAB_REPO/lab/k8s-build.sh" "$LAB_K8S_VERSION")
  "$LAB_REPO/lab/k8s-images.sh" "$LAB_K8S_VERSION" > "$(node_dir "$node")/images"
  for d in /usr /usr/local /usr/local/bin /usr/local/sbin /etc /etc/systemd /etc/systemd/system /etc/systemd/system/multi-user.target.wants /var /var/lib /root; do
    mkdir_like_base "$base" "$upper" "$d"
  done
  for f in kubelet kubeadm kubectl; do install -m 755 "$bins/$f" "$upper/usr/local/bin/$f"; done
  (cd "$KUBE_OVERLAY" && find . -type d) | while read -r d; do [ -d "$base/$d" ] && mkdir_like_base "$base" "$upper" "${d#.}" || mkdir -p "$upper/${d#.}"; done
  cp -a --no-preserve=ownership "$KUBE_OVERLAY/." "$upper/"
  for f in containerd.service; do ln -sf "/lib/systemd/system/$f" "$upper/etc/systemd/system/multi-user.target.wants/$f"; done
  for f in erlab-kube-setup.service erlab-images.service kubelet.service; do ln -sf "/etc/systemd/system/$f" "$upper/etc/systemd/system/multi-user.target.wants/$f"; done
  install -d -m 700 "$upper/root/.kube"
  mkdir -p "$(node_dir "$node")/containerd"
  touch "$(node_dir "$node")/control-plane"
  if [ -n "${LAB_STACKED_ETCD:-}" ]; then "$LAB_REPO/lab/etcd-image.sh" "$LAB_STACKED_ETCD" > "$(node_dir "$node")/etcd-images"; fi
}

# The cgroup the calling shell is in, for controller C (the lab nests below it, as the host
# sandbox accounts memory per process group).
current_cgroup() { awk -F: -v k="$1" '$2==k {print $3}' /proc/self/cgroup; }

# Per-controller cgroup dirs for NODE (kubelet's kubepods nest in them); recorded for crash/cleanup.
kube_cgroups() {
  local node=$1 c dir cur list=""
  for c in $KUBE_CONTROLLERS; do
    cur=$(current_cgroup "$c"); cur=${cur%%/$LAB_NAME/*}
    dir=/sys/fs/cgroup/$c${cur%/}/$LAB_NAME/$node
    mkdir -p "$dir/payload"
    if [ "$c" = cpuset ]; then # a new cpuset cgroup has no CPUs: copy them down each level
      for f in cpuset.cpus cpuset.mems; do for x in "${dir%/*}" "$dir" "$dir/payload"; do cat "/sys/fs/cgroup/cpuset${cur%/}/$f" > "$x/$f"; done; done
    fi
    list+="$dir "
  done
  echo "$list" > "$(node_dir "$node")/cgroups"
  echo "$list"
}

# systemd-nspawn options a control-plane node needs besides the lab's: kubelet reads /dev/kmsg
# (CAP_SYSLOG), runc creates session keyrings (@keyring), containerd's overlayfs snapshotter needs
# a directory that is not itself on overlayfs, and the images come from the host's cache.
kube_nspawn_opts() {
  local dir; dir=$(node_dir "$1")
  echo "--capability=CAP_NET_ADMIN,CAP_SYSLOG --system-call-filter=@keyring --bind-ro=/dev/kmsg --bind=$dir/containerd:/var/lib/containerd --bind-ro=$(cat "$dir/images"):/var/lib/erlab-images" \
    "$([ -f "$dir/etcd-images" ] && echo "--bind-ro=$(cat "$dir/etcd-images"):/var/lib/erlab-images-etcd")"
}

# Stacked etcd: kubeadm init on the first node (a 1-member etcd as a static pod), then kubeadm join
# --control-plane on the next ones (each adds its etcd member, learner first). Nodes given to
# kube_provision but not here stay ready to join.
kube_bootstrap_stacked() {
  local members=("$@") first=$1 sans="" node i tag
  tag=$(cat "$(cat "$(node_dir "$first")/etcd-images")/tag")
  for node in $(lab_nodes); do sans+="${sans:+, }$(node_addr "$node")"; done
  mkdir -p "$KUBE_STATE"
  for node in $(lab_nodes); do
    for i in $(seq 150); do lab_ssh "$node" systemctl is-active --quiet erlab-images && break; sleep 0.2; done
  done
  kubeadm_config "$first" "$first" "$(printf 'etcd:\n  local:\n    imageTag: %s\n    dataDir: %s' "$tag" "$DATA_DIR")" "$sans" | lab_ssh "$first" "cat > $KUBEADM_CONFIG"
  log "$first: kubeadm init (stacked etcd $tag)"
  lab_ssh "$first" kubeadm init --config "$KUBEADM_CONFIG" --ignore-preflight-errors=all --skip-phases=addon/kube-proxy,addon/coredns > "$KUBE_STATE/init-$first.log" 2>&1 \
    || die "$first: kubeadm init failed: $(tail -20 "$KUBE_STATE/init-$first.log")"
  wait_readyz "$first"
  lab_ssh "$first" cat /etc/kubernetes/admin.conf > "$KUBE_STATE/admin.conf"
  kube_join "$first" "${members[@]:1}"
  ln -sf "$("$LAB_REPO/lab/k8s-build.sh" "$LAB_K8S_VERSION")/kubectl" "$KUBE_STATE/kubectl"
}

# kubeadm join --control-plane of each NODE through FIRST (certificate key and token made there).
kube_join() {
  local first=$1 node key join; shift
  for node in "$@"; do
    key=$(lab_ssh "$first" kubeadm init phase upload-certs --upload-certs --config "$KUBEADM_CONFIG" 2>/dev/null | tail -1)
    join=$(lab_ssh "$first" kubeadm token create --print-join-command 2>/dev/null)
    log "$node: kubeadm join --control-plane"
    lab_ssh "$node" "$join --control-plane --certificate-key $key --apiserver-advertise-address $(node_addr "$node") --cri-socket unix:///run/containerd/containerd.sock --ignore-preflight-errors=all" > "$KUBE_STATE/join-$node.log" 2>&1 \
      || die "$node: kubeadm join failed: $(tail -20 "$KUBE_STATE/join-$node.log")"
    wait_readyz "$node"
  done
}

# kubeadm's InitConfiguration + ClusterConfiguration + KubeletConfiguration for control-plane NODE,
# with FIRST's address as controlPlaneEndpoint and ETCD the ClusterConfiguration's etcd block
# (external endpoints, or local for the stacked topology).
kubeadm_config() {
  local node=$1 first=$2 etcd=$3 sans=$4 addr
  addr=$(node_addr "$node")
  cat <<YAML
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: $addr, bindPort: 6443}
nodeRegistration:
  name: $node
  criSocket: unix:///run/containerd/containerd.sock
  imagePullPolicy: Never
  kubeletExtraArgs:
  - {name: node-ip, value: $addr}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: $LAB_CLUSTER
kubernetesVersion: $LAB_K8S_VERSION
imageRepository: lab.local
controlPlaneEndpoint: $(node_addr "$first"):6443
$etcd
apiServer:
  certSANs: [127.0.0.1, $sans]
networking: {podSubnet: 10.244.0.0/16, serviceSubnet: 10.96.0.0/12}
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
YAML
}

wait_readyz() {
  local node=$1 i
  for i in $(seq 120); do
    [ "$(lab_ssh "$node" curl -sk --max-time 2 https://127.0.0.1:6443/readyz 2>/dev/null)" = ok ] && return
    sleep 1
  done
  die "$node: kube-apiserver not ready within 120 s: $(lab_ssh "$node" journalctl -u kubelet -n 15 --no-pager -o cat 2>&1 | tail -15)"
}

# kubeadm init on the first control-plane node, kubeadm join --control-plane on the others; etcd is
# external (the members node1..nodeM). Copies admin.conf to $KUBE_STATE for tests and the host's kubectl.
kube_bootstrap() {
  local members=$1; shift
  local cps=("$@") first=$1 endpoints="" sans="" i node join key
  for i in $(seq "$members"); do endpoints+="${endpoints:+, }https://$(node_addr "node$i"):2379"; done
  for node in "${cps[@]}"; do sans+="${sans:+, }$(node_addr "$node")"; done
  mkdir -p "$KUBE_STATE"
  for node in "${cps[@]}"; do
    for i in $(seq 150); do lab_ssh "$node" systemctl is-active --quiet erlab-images && break; sleep 0.2; done
    kubeadm_config "$node" "$first" "$(printf 'etcd:\n  external:\n    endpoints: [%s]\n    caFile: %s/ca.crt\n    certFile: %s/client.crt\n    keyFile: %s/client.key' "$endpoints" "$PKI_DIR" "$PKI_DIR" "$PKI_DIR")" "$sans" \
      | lab_ssh "$node" "cat > $KUBEADM_CONFIG"
  done
  log "$first: kubeadm init (external etcd: $endpoints)"
  lab_ssh "$first" kubeadm init --config "$KUBEADM_CONFIG" --ignore-preflight-errors=all --skip-phases=addon/kube-proxy,addon/coredns > "$KUBE_STATE/init-$first.log" 2>&1 \
    || die "$first: kubeadm init failed: $(tail -20 "$KUBE_STATE/init-$first.log")"
  wait_readyz "$first"
  lab_ssh "$first" cat /etc/kubernetes/admin.conf > "$KUBE_STATE/admin.conf"
  kube_join "$first" "${cps[@]:1}"
  ln -sf "$("$LAB_REPO/lab/k8s-build.sh" "$LAB_K8S_VERSION")/kubectl" "$KUBE_STATE/kubectl"
}
