#!/usr/bin/env bash
# Installs a Python tool from PyPI into a virtualenv of its own, cached outside the clone by version
# (/var/cache/etcd-runbooks/py/<package>-<version>), and prints the venv's bin directory.
# Usage: scripts/python-tool.sh PACKAGE VERSION   e.g. scripts/python-tool.sh schemathesis 4.32.5
set -euo pipefail
pkg=$1 version=$2
root=${ETCD_RUNBOOKS_PY_CACHE:-/var/cache/etcd-runbooks/py}
venv="$root/$pkg-$version"
if [ ! -f "$venv/.installed" ]; then
  echo "python-tool: installing $pkg==$version into $venv" >&2
  rm -rf "$venv"
  mkdir -p "$root"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$pkg==$version" >&2
  touch "$venv/.installed"
fi
echo "$venv/bin"
