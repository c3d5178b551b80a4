#!/usr/bin/env bash
# Temporal dev server for development and tests, state kept in a SQLite file so runs survive restarts.
# Usage: scripts/temporal-server.sh start|stop|kill|status
#   start   reuse a server answering on $TEMPORAL_ADDRESS (default 127.0.0.1:7233), else start one
#           with --db-filename $ETCD_RUNBOOKS_STATE/temporal/temporal.db (UI on :8233; --headless when CI is set)
#           and eager activity dispatch on (deploy/temporal/dynamicconfig/production.yaml says why)
#   stop    stop the server this script started (kill: SIGKILL it, as a crash would)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
state=${ETCD_RUNBOOKS_STATE:-$repo/.state}/temporal
addr=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
host=${addr%:*}; port=${addr##*:}
cli=$("$repo/scripts/temporal-cli.sh")

healthy() { "$cli" operator cluster health --address "$addr" >/dev/null 2>&1; }

case ${1:-start} in
  start)
    if healthy; then echo "temporal: reusing the server on $addr" >&2; exit 0; fi
    mkdir -p "$state"
    ui=(--ui-port $((port + 1000))); [ -n "${CI:-}" ] && ui=(--headless)
    setsid nohup "$cli" server start-dev --db-filename "$state/temporal.db" --ip "$host" --port "$port" \
      "${ui[@]}" --log-level warn --dynamic-config-value system.enableActivityEagerExecution=true \
      >> "$state/server.log" 2>&1 < /dev/null &
    echo $! > "$state/server.pid"
    for _ in $(seq 120); do
      if healthy; then echo "temporal: server up on $addr (db $state/temporal.db, log $state/server.log)" >&2; exit 0; fi
      kill -0 "$(cat "$state/server.pid")" 2>/dev/null || { tail -20 "$state/server.log" >&2; echo "temporal: server exited" >&2; exit 1; }
      sleep 0.5
    done
    echo "temporal: server did not answer within 60 s (log $state/server.log)" >&2; exit 1 ;;
  stop|kill)
    # kill: SIGKILL, as a crash or power loss would (the SQLite file stays).
    sig=TERM; [ "$1" = kill ] && sig=KILL
    if [ -f "$state/server.pid" ]; then
      pid=$(cat "$state/server.pid")
      kill -s "$sig" "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$state/server.pid"
    fi ;;
  status)
    healthy && echo "temporal: serving on $addr" || { echo "temporal: not answering on $addr"; exit 1; } ;;
  *) echo "usage: $0 start|stop|kill|status" >&2; exit 2 ;;
esac
