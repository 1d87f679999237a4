#!/usr/bin/env bash
# Precision marketing through the public API on a private, throwaway
# PostgreSQL cluster (installed from Debian packages if missing): one brand
# seeded through GraphQL and POST /ingest (courses, course activity, an
# ACTIVE campaign in Asia/Shanghai with its creatives, impressions and
# planted clicks), trainModel(SEGMENTATION) then trainModel(CTR) until
# READY, then predictCtr for 1,000 learners and bestCreative alone and
# under 32 concurrent clients (bench/ml/marketing.ts, which also reads the
# machine and the PostgreSQL version). The numbers land in the
# "## Precision marketing (bench/run-marketing.sh)" section of
# bench/RESULTS.md; each run adds a row to its "Every run" table. The sizes
# (BENCH_LEARNERS, BENCH_IMPRESSIONS, BENCH_DURATION, ...) are listed at
# the top of bench/ml/marketing.ts and pass through; BENCH_REPORT=0 leaves
# RESULTS.md alone; BENCH_MARKETING_OUT keeps marketing.json.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

# shellcheck source=prelude.sh
source bench/prelude.sh

echo "== precision marketing through the API (bench/ml/marketing.ts)"
BENCH_DATABASE_URL="$PG_CLUSTER_URL" ALLIED_ML_DEVICE=cpu node dist/bench/ml/marketing.js
echo "== done in $((SECONDS - started)) s"
