# Shared by the offline model benchmarks (sourced, not run).

# Prints the first python3 that imports the given modules, installing the
# Debian package when none does. Debian's packages install for the system
# interpreter, which need not be the python3 first on PATH. The peers are
# never dependencies of Allied.
python_with() {
  local modules="$1" package="$2" candidate
  for candidate in python3 /usr/bin/python3; do
    if "$candidate" -c "import $modules" 2>/dev/null; then echo "$candidate"; return; fi
  done
  echo "== installing $package" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2 && apt-get install -y -qq "$package" >/dev/null
  else sudo apt-get update -qq >&2 && sudo apt-get install -y -qq "$package" >/dev/null; fi
  echo /usr/bin/python3
}

# Runs a TypeScript file of bench/ directly, transpiled by the project's
# typescript package (as the trainer pool does under ts-jest): no build.
run_ts() {
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
require(path.resolve(process.argv[1]));
' "$1"
}
