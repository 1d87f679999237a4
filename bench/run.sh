#!/usr/bin/env bash
# Builds Allied and runs one benchmark (catalog, ingest, settlement or
# subscriptions) against a private, throwaway PostgreSQL cluster (installed
# from Debian packages if missing); the numbers land in bench/RESULTS.md.
# The benchmark's BENCH_* variables pass through; see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: bench/run.sh catalog|ingest|settlement|subscriptions}"
[ -f "bench/$name.ts" ] || { echo "no benchmark bench/$name.ts" >&2; exit 2; }

# shellcheck source=../scripts/pg-cluster.sh
source scripts/pg-cluster.sh
pg_cluster_install

echo "== building"
npx tsc -p tsconfig.json

# The subscription benchmark holds 10,000 connections in the server and in its clients.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

trap pg_cluster_stop EXIT
pg_cluster_start
# The ingest floor copies rows with psql's \copy: use the cluster's own client.
export BENCH_PSQL="${BENCH_PSQL:-$(pg_cluster_bindir)/psql}"
# The server's own flags (npm start, the Docker image); BENCH_NODE_FLAGS= runs without them.
BENCH_DATABASE_URL="$PG_CLUSTER_URL" node ${BENCH_NODE_FLAGS---max-semi-space-size=64} "dist/bench/$name.js"
