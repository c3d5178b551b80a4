#!/bin/sh
# Creates Temporal's two PostgreSQL databases on first start and brings their schemas up to the
# server's version on every start (update-schema applies only newer versions).
set -eu
tool() { temporal-sql-tool --plugin postgres12 --ep postgresql -u temporal -p 5432 "$@"; }
for db in temporal temporal_visibility; do
  dir=$([ "$db" = temporal ] && echo temporal || echo visibility)
  if tool --db "$db" create; then
    tool --db "$db" setup-schema -v 0.0
  else
    echo "database $db exists"
  fi
  tool --db "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"
done
