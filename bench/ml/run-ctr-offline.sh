#!/usr/bin/env bash
# The CTR model's offline benchmark: synthetic impressions with planted click
# probabilities, Allied's LR and FM and the oracle in TypeScript
# (bench/ml/ctr-offline.ts), scikit-learn's LogisticRegression on the same
# hashed split (bench/ml/ctr_sklearn.py), one table, plus the time of a full
# training on 1,000,000 impressions. scikit-learn is installed from Debian
# packages when missing; it is never a dependency of Allied. BENCH_SEED,
# BENCH_IMPRESSIONS, BENCH_TIME_IMPRESSIONS (0 skips the timing), BENCH_LR and
# BENCH_FM pass through.
set -euo pipefail
cd "$(dirname "$0")/../.."

source bench/ml/common.sh
python="$(python_with 'sklearn, scipy' python3-sklearn)"

out="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/allied-ctr-offline-XXXXXX")}"
export BENCH_OUT="$out"

run_ts bench/ml/ctr-offline.ts >/dev/null

"$python" bench/ml/ctr_sklearn.py "$out"
echo "(the split and results.json are in $out)" >&2
