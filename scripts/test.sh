#!/usr/bin/env bash
# The README's test command (npm test): type-check and lint (npm's pretest), then jest in two phases:
#  1. every test file except the Temporal-server restarts, two files at a time, each jest worker on
#     a lab of its own (ETCD_RUNBOOKS_LAB_ID, see lab/common.sh);
#  2. the server-restart tests alone (they kill the Temporal server every other test talks to).
# Prints the fault matrix table (test/e2e/matrix), the etcd version table (test/e2e/versions) and
# the kubeadm control-plane table (test/e2e/kubeadm and test/e2e/stacked),
# then one line summing both phases:
# `tests: N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .state
# The labs (0 and 1) and the Temporal dev server on 127.0.0.1:7233 belong to the machine, not the
# checkout: a second run at once (another clone, a CI run while a developer's run goes on) would
# share them, and its server-restart phase kills the server the first run talks to. One run at a
# time, machine-wide: a run waits for the one before it.
lock=${ETCD_RUNBOOKS_TEST_LOCK:-/run/lock/etcd-runbooks-tests.lock}
exec 9>>"$lock" || { lock=/tmp/etcd-runbooks-tests.lock; exec 9>>"$lock"; }
if ! flock -n 9; then
  echo "test.sh: another test run on this machine holds $lock (pid $(cat "$lock.pid" 2>/dev/null || echo ?)); waiting for it" >&2
  flock 9
fi
echo $$ > "$lock.pid"
rm -rf .state/fault-matrix .state/version-matrix .state/kube-matrix
workers=${ETCD_RUNBOOKS_TEST_WORKERS:-2}
status=0
npx jest --maxWorkers="$workers" "$@" --testPathIgnorePatterns serverRestart 2>&1 | tee .state/test-phase1.log || status=1
if [ $# -eq 0 ]; then
  npx jest --runInBand test/e2e/serverRestart.test.ts 2>&1 | tee .state/test-phase2.log || status=1
else
  : > .state/test-phase2.log
fi
read -r passed failed < <(cat .state/test-phase1.log .state/test-phase2.log | sed -n 's/^tests: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' | awk '{p+=$1; f+=$2} END {print p+0, f+0}')
npx ts-node --transpile-only test/support/faultTable.ts .state/fault-matrix
npx ts-node --transpile-only test/support/versionTable.ts .state/version-matrix
npx ts-node --transpile-only test/support/kubeTable.ts .state/kube-matrix
# A phase that failed without a summary (jest itself broke) still counts as a failure.
[ "$status" = 0 ] || [ "$failed" != 0 ] || failed=1
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ] || status=1
exit "$status"
