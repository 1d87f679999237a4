# A private, throwaway PostgreSQL cluster for tests and benchmarks.
# Source it, then: pg_cluster_install; pg_cluster_start; ...; pg_cluster_stop.
# Sets PG_CLUSTER_URL (superuser "postgres", trust auth, loopback only).

PG_CLUSTER_PORT="${PG_CLUSTER_PORT:-}"
PG_CLUSTER_DIR="${PG_CLUSTER_DIR:-}"

pg_cluster_bindir() {
  local dir
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

pg_cluster_install() {
  if pg_cluster_bindir >/dev/null; then return 0; fi
  echo "== installing PostgreSQL 15 from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql-15 >/dev/null
}

pg_cluster_version() { "$(pg_cluster_bindir)/postgres" --version | awk '{print $3}'; }

pg_cluster_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

pg_cluster_start() {
  local bin; bin="$(pg_cluster_bindir)"
  PG_CLUSTER_PORT="${PG_CLUSTER_PORT:-$(pg_cluster_free_port)}"
  PG_CLUSTER_DIR="${PG_CLUSTER_DIR:-$(mktemp -d /tmp/allied-pg.XXXXXX)}"
  local as=()
  # initdb and postgres refuse to run as root.
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_CLUSTER_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$PG_CLUSTER_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$PG_CLUSTER_DIR/data" -l "$PG_CLUSTER_DIR/log" -w start \
    -o "-p $PG_CLUSTER_PORT -c listen_addresses=127.0.0.1 -k $PG_CLUSTER_DIR -c max_connections=300 -c fsync=off -c shared_buffers=256MB" >/dev/null
  export PG_CLUSTER_URL="postgres://postgres@127.0.0.1:${PG_CLUSTER_PORT}/postgres"
  export PG_CLUSTER_DIR PG_CLUSTER_PORT
  echo "== PostgreSQL $(pg_cluster_version) started on port $PG_CLUSTER_PORT ($PG_CLUSTER_DIR)"
}

pg_cluster_stop() {
  [ -n "${PG_CLUSTER_DIR:-}" ] && [ -d "$PG_CLUSTER_DIR/data" ] || return 0
  local bin; bin="$(pg_cluster_bindir)"
  local as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$bin/pg_ctl" -D "$PG_CLUSTER_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_CLUSTER_DIR"
  echo "== PostgreSQL stopped"
}
