#!/usr/bin/env bash
# The recommender's offline benchmark: a synthetic brand with planted tastes,
# popularity, ALS, BPR and the oracle in TypeScript (bench/ml/offline.ts),
# EASE and item-kNN in numpy (bench/ml/ease.py) on the same split, one table.
# numpy is installed from Debian packages when missing; it is never a
# dependency of Allied. BENCH_SEED, BENCH_LEARNERS, BENCH_COURSES pass through.
set -euo pipefail
cd "$(dirname "$0")/../.."

source bench/ml/common.sh
python="$(python_with 'numpy' python3-numpy)"

out="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/allied-offline-XXXXXX")}"
export BENCH_OUT="$out"

run_ts bench/ml/offline.ts >/dev/null

"$python" bench/ml/ease.py "$out"
echo "(the split and results.json are in $out)" >&2
