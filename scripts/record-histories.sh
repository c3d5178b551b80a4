#!/usr/bin/env bash
# Records real workflow histories from the Temporal server as replay fixtures
# (test/fixtures/histories/<type>-<status>-<n>-<label>.json) for test/replay/replay.test.ts.
# Run after the end-to-end tests, against the server they used:
#   [SINCE=2026-12-04T08:55:00Z] scripts/record-histories.sh LABEL [max per type and status]
# LABEL names the release whose code made the runs (0.2.0, ...); keep the fixtures of every release
# whose runs may still be in flight somewhere. SINCE takes only runs started after it (the e2e run
# of that code: the server's database keeps older runs of other code). Only runs the lab made are
# taken (workflow ids starting e2e-, test/support/temporal.ts startRun), not the workflow tests'
# runs on stubbed activities.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cli=$("$repo/scripts/temporal-cli.sh")
addr=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
label=${1:?usage: record-histories.sh LABEL [max]}
max=${2:-1}
since="WorkflowId STARTS_WITH 'e2e-'${SINCE:+ AND StartTime > '$SINCE'}"
dir=$repo/test/fixtures/histories
mkdir -p "$dir"
for type in expandCluster replaceMember migrateMember restoreCluster recoverQuorum removeMember moveLeader promoteMember backupCluster drillRestore clusterStatus clusterDoctor cleanupNode kubeSync defragCluster upgradeCluster rotateCerts; do
  for status in Completed Failed; do
    n=0
    "$cli" workflow list --address "$addr" --query "WorkflowType='$type' AND ExecutionStatus='$status' AND $since" --limit "$max" -o json \
      | python3 -c 'import json,sys; [print(w["execution"]["workflowId"], w["execution"]["runId"]) for w in json.load(sys.stdin)]' \
      | while read -r id run; do
          f=$dir/$type-${status,,}-$n-$label.json
          "$cli" workflow show --address "$addr" -w "$id" -r "$run" -o json > "$f"
          echo "$f: $id $run"
          n=$((n + 1))
        done
  done
done
# A watch never completes: its runs end by continue-as-new, or terminated (the e2e's, at its end).
for status in ContinuedAsNew Terminated; do
  n=0
  "$cli" workflow list --address "$addr" --query "WorkflowType='watchCluster' AND ExecutionStatus='$status' AND WorkflowId STARTS_WITH 'etcd-runbooks/watch/'${SINCE:+ AND StartTime > '$SINCE'}" --limit "$max" -o json \
    | python3 -c 'import json,sys; [print(w["execution"]["workflowId"], w["execution"]["runId"]) for w in json.load(sys.stdin)]' \
    | while read -r id run; do
        f=$dir/watchCluster-${status,,}-$n-$label.json
        "$cli" workflow show --address "$addr" -w "$id" -r "$run" -o json > "$f"
        echo "$f: $id $run"
        n=$((n + 1))
      done
done
