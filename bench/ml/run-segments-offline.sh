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

python=python3
if ! python3 -c 'import sklearn' 2>/dev/null; then
  if ! /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
    echo "== installing python3-sklearn" >&2
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq python3-sklearn >/dev/null
    else sudo apt-get update -qq && sudo apt-get install -y -qq python3-sklearn >/dev/null; fi
  fi
  python=/usr/bin/python3
fi

out="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/allied-segments-XXXXXX")}"
export BENCH_OUT="$out"

# Runs the TypeScript sources directly through the project's typescript
# package, as bench/ml/run-offline.sh does: no build needed.
node -e '
const fs = require("node:fs");
const path = require("node:path");
const ts = require("typescript");
require.extensions[".ts"] = function (module, filename) {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};
require(path.resolve("bench/ml/segments-offline.ts"));
' >/dev/null

"$python" bench/ml/segments_sklearn.py "$out"
echo "(the features, assignments and results.json are in $out)" >&2
