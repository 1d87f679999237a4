#!/usr/bin/env bash
# Demand extraction, measured: quality of the pattern baseline, the shipped
# tagger and what extractDemands serves on the hand-annotated evaluation set,
# and CPU speed of the model call and of a whole extraction
# (bench/ml/ner.ts); then the FEEDBACK queue under a steady 200 events/s and
# a burst, through a real server on a private, throwaway PostgreSQL cluster
# (installed from Debian packages if missing; bench/ml/demand-queue.ts).
# Prints the JSON of both; the numbers are kept in the "## Demand extraction"
# section of bench/RESULTS.md. BENCH_FEEDBACK_RATE, BENCH_FEEDBACK_SECONDS and
# BENCH_FEEDBACK_BURST pass through; BENCH_NER_OUT keeps the JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

# shellcheck source=prelude.sh
source bench/prelude.sh
out="${BENCH_NER_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/allied-ner-XXXXXX")}"
mkdir -p "$out"

echo "== quality and speed (bench/ml/ner.ts)"
ALLIED_ML_DEVICE=cpu node dist/bench/ml/ner.js | tee "$out/ner.json"

echo "== the feedback queue (bench/ml/demand-queue.ts) on $("$(pg_cluster_bindir)/postgres" --version)"
BENCH_DATABASE_URL="$PG_CLUSTER_URL" ALLIED_ML_DEVICE=cpu node dist/bench/ml/demand-queue.js | tee "$out/queue.json"
echo "== done in $((SECONDS - started)) s; JSON in $out"
