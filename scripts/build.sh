#!/usr/bin/env bash
# npm run build: compiles the TypeScript into dist/ (type-checking it on the way) and bundles the
# workflow code ahead of time (dist/workflow-bundle.js), so that bin/etcd-runbooks and the worker
# run plain JavaScript: no ts-node and no webpack at run time. dist/.built marks a finished build;
# bin/etcd-runbooks runs the sources through ts-node instead while any source is newer than it.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f dist/.built
npx tsc -p tsconfig.json
node dist/worker/bundle.js
touch dist/.built
