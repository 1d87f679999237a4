#!/usr/bin/env bash
# The recommender's offline benchmark: a synthetic brand with planted tastes,
# popularity, ALS, BPR and the oracle in TypeScript (bench/ml/offline.ts),
# EASE and item-kNN in numpy (bench/ml/ease.py) on the same split, one table.
# numpy is installed from Debian packages when missing; it is never a
# dependency of Allied. BENCH_SEED, BENCH_LEARNERS, BENCH_COURSES pass through.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! python3 -c 'import numpy' 2>/dev/null; then
  echo "== installing python3-numpy" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq python3-numpy >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq python3-numpy >/dev/null; fi
fi

out="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/allied-offline-XXXXXX")}"
export BENCH_OUT="$out"

# Runs the TypeScript sources directly: a .ts loader that transpiles with
# the project's typescript package (the same one the trainer pool uses
# under ts-jest), so no build is needed.
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
require(path.resolve("bench/ml/offline.ts"));
' >/dev/null

python3 bench/ml/ease.py "$out"
echo "(the split and results.json are in $out)" >&2
