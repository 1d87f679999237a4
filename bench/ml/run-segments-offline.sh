#!/usr/bin/env bash
# The segmentation's offline benchmark: a planted population of 100,000
# learners, Allied's k-means with chooseK (bench/ml/segments-offline.ts) and
# scikit-learn's KMeans at the same k on the same standardised features
# (bench/ml/segments_sklearn.py), one table. scikit-learn comes from
# Debian's python3-sklearn, installed only when `python3 -c 'import sklearn'`
# fails; it is never a dependency of Allied. Debian's package serves the
# system interpreter, so when python3 on PATH is another one (pyenv), the
# peer runs on /usr/bin/python3. BENCH_SEED, BENCH_LEARNERS pass through.
set -euo pipefail
cd "$(dirname "$0")/../.."

source bench/ml/common.sh
python="$(python_with 'sklearn' python3-sklearn)"

out="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/allied-segments-XXXXXX")}"
export BENCH_OUT="$out"

run_ts bench/ml/segments-offline.ts >/dev/null

"$python" bench/ml/segments_sklearn.py "$out"
echo "(the features, assignments and results.json are in $out)" >&2
