#!/usr/bin/env bash
# Joint loyalty, measured (bench/loyalty.ts): what earning costs inside
# ingestion (target: at most 15% of the throughput) and redemptions under 32
# concurrent clients (target: 500/s, p99 ≤ 50 ms), on a real server in this
# process on a private, throwaway PostgreSQL cluster (installed from Debian
# packages if missing). Prints the JSON; the numbers are kept in the
# "## Joint loyalty" section of bench/RESULTS.md. The BENCH_LOYALTY_* sizes
# (listed at the top of bench/loyalty.ts) pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

# shellcheck source=prelude.sh
source bench/prelude.sh
echo "== joint loyalty (bench/loyalty.ts) on $("$(pg_cluster_bindir)/postgres" --version)"
BENCH_DATABASE_URL="$PG_CLUSTER_URL" ALLIED_ML_DEVICE=cpu node dist/bench/loyalty.js
echo "== done in $((SECONDS - started)) s"
