#!/usr/bin/env bash
# The ingest benchmark on a private PostgreSQL cluster; see bench/run.sh.
exec bash "$(dirname "$0")/run.sh" ingest "$@"
