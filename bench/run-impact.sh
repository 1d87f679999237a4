#!/usr/bin/env bash
# The alliance-impact benchmark (funnel, allianceImpact, the metrics export) on a private PostgreSQL cluster; see bench/run.sh.
exec bash "$(dirname "$0")/run.sh" impact "$@"
