#!/usr/bin/env bash
# Builds Allied and runs the settlement benchmark on a private, throwaway
# PostgreSQL cluster; the numbers land in bench/RESULTS.md.
# BENCH_EVENTS and BENCH_REPEAT pass through.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=../scripts/pg-cluster.sh
source scripts/pg-cluster.sh
pg_cluster_install

echo "== building"
npx tsc -p tsconfig.json

trap pg_cluster_stop EXIT
pg_cluster_start
BENCH_DATABASE_URL="$PG_CLUSTER_URL" node dist/bench/settlement.js
