#!/usr/bin/env bash
# Builds (or reuses) the node root filesystem: Debian with systemd, sshd and etcd.
# Output: path of the unpacked base directory on stdout.
# Cached as a zstd tarball keyed by the package list and this script's content.
source "$(dirname "$0")/common.sh"

mirror() {
  local uri
  uri=$(grep -hoE '^URIs: *[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}')
  [ -n "$uri" ] || uri=$(grep -hoE '^deb +[^ ]+' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')
  echo "${uri:-http://deb.debian.org/debian}"
}

# Preparation done once inside the fresh root filesystem (chroot), before caching.
prepare_base() {
  local root=$1
  chroot "$root" systemctl disable etcd.service containerd.service postgresql.service >/dev/null 2>&1 || true
  chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer getty@.service console-getty.service \
    fstrim.timer e2scrub_all.timer e2scrub_reap.service systemd-pstore.service \
    systemd-networkd-wait-online.service >/dev/null 2>&1
  mkdir -p "$root/etc/ssh/sshd_config.d"
  cat > "$root/etc/ssh/sshd_config.d/10-lab.conf" <<'CONF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
CONF
  rm -f "$root"/etc/ssh/ssh_host_* "$root/etc/hostname"
  : > "$root/etc/machine-id"
  rm -rf "$root"/var/lib/etcd/*
  install -d -m 700 "$root/root/.ssh"
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/*
}

build() {
  local key cache tmp
  key=$( { echo "$LAB_SUITE $LAB_PACKAGES"; declare -f prepare_base; } | sha256sum | cut -c1-16)
  cache=$LAB_CACHE/rootfs-$LAB_SUITE-$key.tar.zst
  local base=$LAB_STATE/base-$key
  if [ -f "$base/.complete" ]; then echo "$base"; return; fi
  mkdir -p "$LAB_CACHE" "$LAB_STATE"
  # Labs booting at once (parallel test workers) build the cache once, one after the other.
  exec 9>"$LAB_CACHE/.build.lock"
  flock 9
  if [ ! -f "$cache" ]; then
    tmp=$(mktemp -d "$LAB_CACHE/build.XXXXXX")
    log "debootstrap $LAB_SUITE into $tmp (about a minute, once)"
    debootstrap --variant=minbase --include="$LAB_PACKAGES" "$LAB_SUITE" "$tmp/root" "$(mirror)" > "$tmp/debootstrap.log" 2>&1 \
      || { tail -20 "$tmp/debootstrap.log" >&2; die "debootstrap failed (log: $tmp/debootstrap.log)"; }
    prepare_base "$tmp/root"
    tar --numeric-owner --xattrs --acls -C "$tmp/root" -cf - . | zstd -q -3 -T0 -o "$cache.part"
    mv "$cache.part" "$cache"
    rm -rf "$tmp"
  fi
  rm -rf "$base"
  mkdir -p "$base"
  zstd -q -d -c "$cache" | tar --numeric-owner --xattrs --acls -C "$base" -xf -
  touch "$base/.complete"
  echo "$base"
}

require_root
build
