#!/usr/bin/env bash
# The settlement benchmark on a private PostgreSQL cluster; see bench/run.sh.
exec bash "$(dirname "$0")/run.sh" settlement "$@"
