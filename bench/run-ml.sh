#!/usr/bin/env bash
# The model layer's benchmarks on a private, throwaway PostgreSQL cluster
# (installed from Debian packages if missing): recommender quality through
# the public API (bench/ml/api.ts, with EASE and item-kNN from
# bench/ml/ease.py when python3 has numpy) and CPU performance
# (bench/ml/perf.ts). The numbers land in the "## Model layer
# (bench/run-ml.sh)" section of bench/RESULTS.md; each run adds a row to
# its "Every run" table. BENCH_SEED, BENCH_API_SAMPLE, BENCH_DURATION and
# BENCH_CONNECTIONS pass through; BENCH_ML_OUT keeps the JSON and the split.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=../scripts/pg-cluster.sh
source scripts/pg-cluster.sh
pg_cluster_install

# numpy for bench/ml/ease.py (never a dependency of Allied): the first python3 that has it.
source bench/ml/common.sh
export BENCH_PYTHON="$(python_with numpy python3-numpy)"

echo "== building"
# Another change in progress elsewhere in the tree may not type-check; the
# benchmark runs what tsc emitted and says so.
if ! npx tsc -p tsconfig.json; then
  echo "== WARNING: tsc reported errors (above); running the JavaScript it emitted" >&2
fi

out="${BENCH_ML_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/allied-ml-XXXXXX")}"
export BENCH_ML_OUT="$out"
mkdir -p "$out"

trap pg_cluster_stop EXIT
pg_cluster_start
export BENCH_DATABASE_URL="$PG_CLUSTER_URL"
export BENCH_PG_VERSION="$("$(pg_cluster_bindir)/postgres" --version)"
export BENCH_FREE="$(free -g | awk '/^Mem:/ {print $2 " GiB total, " $7 " GiB available"}')"
export ALLIED_ML_DEVICE=cpu

echo "== machine: $(nproc) cores; $BENCH_FREE; Node.js $(node --version); $BENCH_PG_VERSION"
started=$SECONDS
echo "== quality through the API (bench/ml/api.ts)"
node dist/bench/ml/api.js
echo "== CPU performance (bench/ml/perf.ts)"
node dist/bench/ml/perf.js
echo "== writing bench/RESULTS.md"
node dist/bench/ml/perf.js report "$out"
echo "== done in $((SECONDS - started)) s (JSON and the split in $out)"
