#!/usr/bin/env bash
# The catalog benchmark on a private PostgreSQL cluster; see bench/run.sh.
exec bash "$(dirname "$0")/run.sh" catalog "$@"
