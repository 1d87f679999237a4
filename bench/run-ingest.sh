#!/usr/bin/env bash
# Builds Allied and runs the ingest benchmark on a private, throwaway PostgreSQL
# cluster and on the embedded database; the numbers land in bench/RESULTS.md.
# BENCH_EVENTS, BENCH_EMBEDDED_EVENTS, BENCH_EMBEDDED, BENCH_STREAMS,
# BENCH_UPLOAD_EVENTS, BENCH_LEARNERS, BENCH_CPU_PROF and BENCH_SQL_TIMING pass through.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=../scripts/pg-cluster.sh
source scripts/pg-cluster.sh
pg_cluster_install

echo "== building"
npx tsc -p tsconfig.json

trap pg_cluster_stop EXIT
pg_cluster_start
# The floor copies rows with psql's \copy: use the cluster's own client.
BENCH_PSQL="${BENCH_PSQL:-$(pg_cluster_bindir)/psql}" BENCH_DATABASE_URL="$PG_CLUSTER_URL" node dist/bench/ingest.js
