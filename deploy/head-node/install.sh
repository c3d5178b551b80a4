#!/usr/bin/env bash
# Installs an etcd-runbooks head node on Debian 12 without Docker: PostgreSQL (Debian's), Temporal
# server 1.29.1 + temporal-sql-tool + UI 2.42.1 (the versions docker-compose.yml runs), the
# Temporal CLI, schema setup and upgrades, the namespace with its retention, and systemd units for
# Temporal, the UI, the worker, the API, the CLI service (the socket /run/etcd-runbooks/cli.sock
# through which OS users other than root use the CLI, as themselves) and the chat bridges. Idempotent: run it again after an
# upgrade (new binaries, new checkout); it keeps existing secrets and settings files.
#
# Usage (root, from an unpacked release, etcd-runbooks-<version>-linux-x64.tar.gz, or from a checkout
# with `npm ci && npm run build` done):
#   deploy/head-node/install.sh [--binaries DIR] [--temporal-cli FILE] [--node FILE] [--app DIR]
#       [--user NAME] [--retention 90d] [--api-listen HOST:PORT] [--tls-dir DIR] [--server-name NAME]
#       [--inventory PATH] [--ui] [--insecure-no-tls] [--no-start]
#  --binaries     bin/{temporal-server,temporal-sql-tool,temporal-ui-server} and schema/ (default:
#                 scripts/temporal-server-build.sh, which builds them with Go once)
#  --temporal-cli the Temporal CLI (default: scripts/temporal-cli.sh)
#  --temporal-bundle  a tarball of both (scripts/temporal-server-build.sh --bundle on a build host:
#                 bin/{temporal-server,temporal-sql-tool,temporal-ui-server,temporal}, schema/),
#                 checked against the .sha256 beside it when there is one
#  --node         Node.js >= 20 (default: the release's runtime/node; from a checkout, `node` on PATH;
#                 Debian 12's nodejs is 18: use NodeSource's)
#  --app          where etcd-runbooks runs from (default /opt/etcd-runbooks; the release or checkout
#                 is copied there unless it is that directory: into <app>.new, then swapped in, the
#                 one before kept as <app>.previous)
#  --rollback     swap <app>.previous back in and restart the services (nothing else changes)
#  --user         the worker's user (default etcd-runbooks, created): reads the inventory's SSH keys
#                 and the audit key, writes the audit records. No network-facing service runs as it.
#  --front-user   the user of the front ends: API, CLI service, Slack and Matrix bridges (default
#                 <user>-front, created): reads the front ends' signing keys and the access policy,
#                 never the SSH keys or the audit key. Both read the inventory and Temporal's
#                 client certificate (group etcd-runbooks-temporal).
#  --tls-dir      mTLS to Temporal: ca.pem, frontend.pem/-key.pem (the server's certificate),
#                 client.pem/-key.pem (the worker's, API's, bridges', CLI's), system-worker.pem/-key.pem.
#                 Without it, a private PKI is made once in /etc/etcd-runbooks/tls-generated
#                 (deploy/head-node/tls-init): Temporal always requires client certificates.
#  --server-name  the name in frontend.pem the clients check (default temporal)
#  --ui           also run Temporal's UI on 127.0.0.1:8233. It talks to Temporal with the system
#                 worker's certificate and authenticates nobody: any account on the head node that
#                 reaches the port holds every run. Off unless asked for.
#  --insecure-no-tls  plaintext Temporal (a throw-away test host only: anyone who reaches :7233
#                 can read histories and terminate runs)
# Files: /etc/etcd-runbooks/{temporal.env (database password, generated), etcd-runbooks.env,
# namespace.env, access.yaml, trust.yaml, keys/ (decision signing keys), inventory/}, /etc/temporal, /etc/temporal-ui, /var/lib/etcd-runbooks.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
binaries='' cli='' node_bin='' app=/opt/etcd-runbooks user=etcd-runbooks front='' retention=90d listen=127.0.0.1:8080
tls_dir='' server_name=temporal inventory=/etc/etcd-runbooks/inventory start=1 ui=0 no_tls=0 rollback=0 bundle=''
while [ $# -gt 0 ]; do
  case $1 in
    --binaries) binaries=$2; shift 2;;
    --temporal-cli) cli=$2; shift 2;;
    --temporal-bundle) bundle=$2; shift 2;;
    --node) node_bin=$2; node_given=1; shift 2;;
    --app) app=$2; shift 2;;
    --user) user=$2; shift 2;;
    --front-user) front=$2; shift 2;;
    --retention) retention=$2; shift 2;;
    --api-listen) listen=$2; shift 2;;
    --tls-dir) tls_dir=$2; shift 2;;
    --server-name) server_name=$2; shift 2;;
    --inventory) inventory=$2; shift 2;;
    --no-start) start=0; shift;;
    --ui) ui=1; shift;;
    --insecure-no-tls) no_tls=1; shift;;
    --rollback) rollback=1; shift;;
    *) echo "install: unknown argument $1 (see the header of $0)" >&2; exit 2;;
  esac
done
say() { printf '[install] %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { say "run as root"; exit 1; }
[[ $retention =~ ^[0-9]+[dh]$ ]] || { say "--retention: want e.g. 90d or 72h, got '$retention'"; exit 2; }
services=(etcd-runbooks-worker.service etcd-runbooks-api.service etcd-runbooks-cli.service etcd-runbooks-slack.service etcd-runbooks-matrix.service)
if [ "$rollback" = 1 ]; then
  [ -d "$app.previous" ] || { say "--rollback: no $app.previous"; exit 1; }
  say "rolling back: $(cat "$app/dist/VERSION" 2>/dev/null || echo "$app") -> $(cat "$app.previous/dist/VERSION" 2>/dev/null || echo "$app.previous")"
  mv "$app" "$app.rolled-back" && mv "$app.previous" "$app" && mv "$app.rolled-back" "$app.previous"
  systemctl restart "${services[@]}"
  exit 0
fi
release=0; [ -f "$repo/dist/VERSION" ] && [ ! -d "$repo/client" ] && release=1

# PostgreSQL from Debian (needs the network once).
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  say "apt-get install postgresql"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

if [ -n "$bundle" ]; then
  [ ! -f "$bundle.sha256" ] || (cd "$(dirname "$bundle")" && sha256sum --quiet -c "$(basename "$bundle").sha256") || { say "--temporal-bundle: $bundle does not match its .sha256"; exit 1; }
  unpacked=$(mktemp -d /var/tmp/temporal-bundle.XXXXXX)
  tar -C "$unpacked" -xzf "$bundle"
  binaries=$(echo "$unpacked"/*/); binaries=${binaries%/}; cli=$binaries/bin/temporal
  trap 'rm -rf "$unpacked"' EXIT
fi
if [ "$release" = 1 ] && { [ -z "$binaries" ] || [ -z "$cli" ]; }; then
  say "from a release: give --temporal-bundle (or --binaries and --temporal-cli); a release builds nothing"; exit 2
fi
[ -n "$binaries" ] || binaries=$("$repo/scripts/temporal-server-build.sh")
[ -n "$cli" ] || cli=$("$repo/scripts/temporal-cli.sh")
[ -n "$node_bin" ] || { if [ -x "$repo/runtime/node" ]; then node_bin=$repo/runtime/node; else node_bin=$(command -v node); fi; }
"$node_bin" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { say "$node_bin is older than Node.js 20"; exit 1; }

id temporal >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin temporal
[ -n "$front" ] || front=$( [ "$user" = root ] && echo root || echo "$user-front")
[ "$user" = root ] || id "$user" >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/etcd-runbooks --shell /usr/sbin/nologin "$user"
[ "$front" = root ] || id "$front" >/dev/null 2>&1 || useradd --system --user-group --home-dir /nonexistent --shell /usr/sbin/nologin "$front"
# Groups: <user> (the worker's secrets), <front> (the front ends' secrets), etcd-runbooks-temporal
# (what both need: the Temporal client key, the inventory).
worker_group=$(id -gn "$user"); front_group=$(id -gn "$front"); shared_group=root
if [ "$user" != root ] || [ "$front" != root ]; then
  shared_group=etcd-runbooks-temporal
  getent group "$shared_group" >/dev/null || groupadd --system "$shared_group"
  for u in "$user" "$front"; do [ "$u" = root ] || usermod -aG "$shared_group" "$u"; done
fi

say "binaries into /usr/local/bin, schema into /usr/local/share/temporal"
for b in temporal-server temporal-sql-tool temporal-ui-server; do install -m 755 "$binaries/bin/$b" "/usr/local/bin/$b.new" && mv "/usr/local/bin/$b.new" "/usr/local/bin/$b"; done
install -m 755 "$cli" /usr/local/bin/temporal.new && mv /usr/local/bin/temporal.new /usr/local/bin/temporal
rm -rf /usr/local/share/temporal/schema && mkdir -p /usr/local/share/temporal && cp -r "$binaries/schema" /usr/local/share/temporal/schema
install -d -m 755 /usr/local/lib/etcd-runbooks
install -m 755 "$here/temporal-schema" "$here/temporal-namespace" /usr/local/lib/etcd-runbooks/

if [ "$(readlink -f "$repo")" != "$(readlink -f "$app")" ]; then
  [ -f "$repo/dist/.built" ] || { say "no build in $repo: run npm ci && npm run build first"; exit 1; }
  say "etcd-runbooks $(cat "$repo/dist/VERSION" 2>/dev/null || echo "(checkout)") into $app"
  rm -rf "$app.new" && mkdir -p "$app.new"
  cp -a "$repo/package.json" "$repo/bin" "$repo/dist" "$repo/node_modules" "$repo/deploy" "$app.new/"
  for d in runtime docs; do [ ! -d "$repo/$d" ] || cp -a "$repo/$d" "$app.new/"; done
  [ -f "$repo/api/openapi.json" ] && mkdir -p "$app.new/api" && cp "$repo/api/openapi.json" "$app.new/api/"
  # Swapped in whole: the services restart below on the new one; the one before stays for --rollback.
  if [ -d "$app" ]; then rm -rf "$app.previous" && mv "$app" "$app.previous"; fi
  mv "$app.new" "$app"
  [ ! -x "$app/runtime/node" ] || [ -n "${node_given:-}" ] || node_bin=$app/runtime/node
fi
# The units run /usr/local/bin/node: the release's runtime, --node, or node on PATH.
[ "$(readlink -f "$node_bin")" = /usr/local/bin/node ] || [ "$node_bin" = /usr/local/bin/node ] || ln -sfn "$node_bin" /usr/local/bin/node

say "configuration under /etc/temporal, /etc/temporal-ui, /etc/etcd-runbooks"
install -d -m 755 /etc/temporal/config /etc/temporal/dynamicconfig /etc/temporal-ui/config
install -m 644 "$here/temporal.yaml" /etc/temporal/config/production.yaml
install -m 644 "$repo/deploy/temporal/dynamicconfig/production.yaml" /etc/temporal/dynamicconfig/production.yaml
install -d -m 711 /etc/etcd-runbooks
install -d -m 750 -o "$user" -g "$worker_group" /var/lib/etcd-runbooks /var/lib/etcd-runbooks/audit
# The inventory: readable by both services (the front ends look clusters up in it), root's to change.
[ -e "$inventory" ] || install -d -m 750 "$inventory"
if [ -d "$inventory" ]; then
  chown root:"$shared_group" "$inventory"; chmod 750 "$inventory"
  find "$inventory" -maxdepth 1 -type f -name '*.y*ml' -exec chown root:"$shared_group" {} + -exec chmod 640 {} +
elif [ -f "$inventory" ]; then
  chown root:"$shared_group" "$inventory"; chmod 640 "$inventory"
fi
# SSH keys the inventories name under /etc/etcd-runbooks/ssh: the worker's alone.
if [ -d /etc/etcd-runbooks/ssh ]; then
  chown root:"$worker_group" /etc/etcd-runbooks/ssh; chmod 750 /etc/etcd-runbooks/ssh
  find /etc/etcd-runbooks/ssh -maxdepth 1 -type f ! -name '*.pub' -exec chown root:"$worker_group" {} + -exec chmod 640 {} +
fi

tls_server=() tls_client=()
if [ -z "$tls_dir" ] && [ "$no_tls" = 0 ]; then
  say "no --tls-dir: a private PKI for Temporal's mTLS in /etc/etcd-runbooks/tls-generated"
  "$here/tls-init" /etc/etcd-runbooks/tls-generated
  tls_dir=/etc/etcd-runbooks/tls-generated
fi
if [ -n "$tls_dir" ]; then
  install -d -m 755 /etc/etcd-runbooks/tls
  for f in ca.pem frontend.pem frontend-key.pem client.pem client-key.pem system-worker.pem system-worker-key.pem; do
    [ -f "$tls_dir/$f" ] || { say "--tls-dir: $tls_dir/$f is missing"; exit 1; }
  done
  install -m 644 "$tls_dir/ca.pem" "$tls_dir/frontend.pem" "$tls_dir/client.pem" "$tls_dir/system-worker.pem" /etc/etcd-runbooks/tls/
  install -m 640 -g temporal "$tls_dir/frontend-key.pem" "$tls_dir/system-worker-key.pem" /etc/etcd-runbooks/tls/
  install -m 640 -g "$shared_group" "$tls_dir/client-key.pem" /etc/etcd-runbooks/tls/
  t=/etc/etcd-runbooks/tls
  tls_server=("TEMPORAL_TLS_FRONTEND_CERT=$t/frontend.pem" "TEMPORAL_TLS_FRONTEND_KEY=$t/frontend-key.pem" "TEMPORAL_TLS_CLIENT_CA=$t/ca.pem"
    "TEMPORAL_TLS_CA=$t/ca.pem" "TEMPORAL_TLS_SERVER_NAME=$server_name" "TEMPORAL_TLS_SYSTEM_WORKER_CERT=$t/system-worker.pem" "TEMPORAL_TLS_SYSTEM_WORKER_KEY=$t/system-worker-key.pem")
  tls_client=("TEMPORAL_TLS_CA=$t/ca.pem" "TEMPORAL_TLS_CERT=$t/client.pem" "TEMPORAL_TLS_KEY=$t/client-key.pem" "TEMPORAL_TLS_SERVER_NAME=$server_name")
fi

# temporal.env: the database password is made here once and kept; the TLS lines follow --tls-dir.
pwd_line=$(grep -s '^POSTGRES_PWD=' /etc/etcd-runbooks/temporal.env || echo "POSTGRES_PWD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')")
{ echo "# Written by deploy/head-node/install.sh for temporal.service and temporal-schema.service."; echo "$pwd_line"; echo "POSTGRES_PORT=5432"; printf '%s\n' "${tls_server[@]}"; } > /etc/etcd-runbooks/temporal.env.new
chmod 640 /etc/etcd-runbooks/temporal.env.new && chgrp temporal /etc/etcd-runbooks/temporal.env.new && mv /etc/etcd-runbooks/temporal.env.new /etc/etcd-runbooks/temporal.env
if [ ! -f /etc/etcd-runbooks/etcd-runbooks.env ]; then
  { echo "# Settings of the etcd-runbooks services (worker, API, bridges). Secrets of the bridges go in slack.env / matrix.env."
    echo "TEMPORAL_ADDRESS=127.0.0.1:7233"; echo "TEMPORAL_NAMESPACE=default"
    echo "ETCD_RUNBOOKS_INVENTORY=$inventory"; echo "ETCD_RUNBOOKS_ACCESS=/etc/etcd-runbooks/access.yaml"
    echo "ETCD_RUNBOOKS_AUDIT_DIR=/var/lib/etcd-runbooks/audit"; echo "ETCD_RUNBOOKS_AUDIT_KEY=/etc/etcd-runbooks/keys/audit.pem"; echo "ETCD_RUNBOOKS_API_LISTEN=$listen"
    printf '%s\n' "${tls_client[@]}"; } > /etc/etcd-runbooks/etcd-runbooks.env
fi
# Settings, no secrets: both services read them.
chown root:"$shared_group" /etc/etcd-runbooks/etcd-runbooks.env; chmod 640 /etc/etcd-runbooks/etcd-runbooks.env
# The TLS lines follow this install's certificates (an install before 0.6 may have had none).
sed -i '/^TEMPORAL_TLS_/d' /etc/etcd-runbooks/etcd-runbooks.env
[ ${#tls_client[@]} -eq 0 ] || printf '%s\n' "${tls_client[@]}" >> /etc/etcd-runbooks/etcd-runbooks.env
# Installs before 0.6 kept the audit key in the audit dir: keep using it there (records are signed with it).
grep -q '^ETCD_RUNBOOKS_AUDIT_KEY=' /etc/etcd-runbooks/etcd-runbooks.env || [ -f /var/lib/etcd-runbooks/audit/signing-key.pem ] \
  || echo "ETCD_RUNBOOKS_AUDIT_KEY=/etc/etcd-runbooks/keys/audit.pem" >> /etc/etcd-runbooks/etcd-runbooks.env
echo "TEMPORAL_RETENTION=$retention" > /etc/etcd-runbooks/namespace.env
# The UI on loopback (reach it through an SSH tunnel or a proxy with your authentication in front).
{ echo "# Written by deploy/head-node/install.sh. Temporal UI 2.42.1."
  echo "temporalGrpcAddress: 127.0.0.1:7233"; echo "host: 127.0.0.1"; echo "port: 8233"; echo "enableUi: true"; echo "defaultNamespace: default"
  if [ -n "$tls_dir" ]; then
    printf 'tls:\n  caFile: %s\n  certFile: %s\n  keyFile: %s\n  serverName: %s\n  enableHostVerification: true\n' \
      /etc/etcd-runbooks/tls/ca.pem /etc/etcd-runbooks/tls/system-worker.pem /etc/etcd-runbooks/tls/system-worker-key.pem "$server_name"
  fi; } > /etc/temporal-ui/config/production.yaml
# The front ends' decision signing keys (readable by the front ends' group) and the audit key (by
# the worker's), root-owned, and the trust file runs verify decisions with.
"$app/bin/etcd-runbooks" keys init --dir /etc/etcd-runbooks --group "$front_group" --audit-group "$worker_group"
[ -f /etc/etcd-runbooks/access.yaml ] || printf '# Who may do what (docs/operations.md: identities and roles). Four-eyes applies to restoreCluster,\n# recoverQuorum, removeMember, replaceMember and migrateMember unless fourEyes lists others. Add API tokens, OIDC, chat users here.\nosUsers:\n  root: [admin]\ntokens: []\n' > /etc/etcd-runbooks/access.yaml
# The policy and the bridges' secrets: the front ends' to read, root's to change (a file given by an earlier install or by hand too).
for f in /etc/etcd-runbooks/access.yaml /etc/etcd-runbooks/slack.env /etc/etcd-runbooks/matrix.env; do
  if [ -f "$f" ]; then chown root:"$front_group" "$f"; chmod 640 "$f"; fi
done

say "systemd units"
for u in "$here"/units/*.service; do
  sed -e "s/^User=etcd-runbooks$/User=$user/" -e "s/^User=etcd-runbooks-front$/User=$front/" "$u" > "/etc/systemd/system/$(basename "$u")"
done
# The app runs from --app.
sed -i "s#/opt/etcd-runbooks/#$app/#" /etc/systemd/system/etcd-runbooks-*.service
systemctl daemon-reload
systemctl enable postgresql.service temporal-schema.service temporal.service temporal-namespace.service \
  etcd-runbooks-worker.service etcd-runbooks-api.service etcd-runbooks-cli.service etcd-runbooks-slack.service etcd-runbooks-matrix.service >/dev/null 2>&1
if [ "$ui" = 1 ]; then systemctl enable temporal-ui.service >/dev/null 2>&1; else systemctl disable --now temporal-ui.service >/dev/null 2>&1 || true; fi
if [ "$start" = 1 ]; then
  say "starting"
  systemctl start postgresql.service
  systemctl restart temporal-schema.service
  systemctl restart temporal.service
  [ "$ui" = 0 ] || systemctl restart temporal-ui.service
  systemctl restart temporal-namespace.service
  systemctl restart "${services[@]}"
fi
say "installed: $(du -sch --apparent-size /usr/local/bin/temporal-server /usr/local/bin/temporal-sql-tool /usr/local/bin/temporal-ui-server /usr/local/bin/temporal /usr/local/share/temporal "$app/dist" "$app/node_modules" 2>/dev/null | awk '{s=s $2 " " $1 "; "} END {print s}')"
