#!/usr/bin/env bash
# Email journeys, measured (bench/email.ts): trigger evaluation for 100,000
# learners (target ≤ 10 s), sending to a local SMTP sink (target ≥ 200
# messages/s sustained) and the rendering cost per message, on a real
# server in this process on a private, throwaway PostgreSQL cluster
# (installed from Debian packages if missing). Prints the JSON; the numbers
# are kept in the "## Email journeys" section of bench/RESULTS.md.
# BENCH_EMAIL_LEARNERS, BENCH_EMAIL_MESSAGES and ALLIED_MAIL_CONCURRENCY pass
# through.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

# shellcheck source=prelude.sh
source bench/prelude.sh

echo "== email journeys (bench/email.ts) on $("$(pg_cluster_bindir)/postgres" --version)"
BENCH_DATABASE_URL="$PG_CLUSTER_URL" ALLIED_ML_DEVICE=cpu node dist/bench/email.js
echo "== done in $((SECONDS - started)) s"
