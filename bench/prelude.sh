# Sourced by the bench/run-*.sh scripts that run on a private PostgreSQL
# cluster: installs PostgreSQL from Debian packages if missing, compiles
# the benchmarks and says which machine they run on. Another change in
# progress elsewhere in the tree may not type-check; the benchmark then runs
# what tsc emitted, and says so. Then starts the cluster, stopped on exit.
# shellcheck source=../scripts/pg-cluster.sh
source scripts/pg-cluster.sh
pg_cluster_install

echo "== building"
npx tsc -p tsconfig.json || echo "== WARNING: tsc reported errors (above); running the JavaScript it emitted" >&2
echo "== machine: $(nproc) cores; $(free -g | awk '/^Mem:/ {print $2 " GiB"}'); Node.js $(node --version)"

trap pg_cluster_stop EXIT
pg_cluster_start
