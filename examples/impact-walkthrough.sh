#!/usr/bin/env bash
# The README's "Alliance impact" walk-through, end to end: starts a fresh server
# (port 4000, a new embedded database in a temporary folder) with its demo brands,
# forms an alliance, records two brands' events, and prints every answer.
# Needs curl and jq.   bash examples/impact-walkthrough.sh
set -uo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
set -m # the server in a process group of its own, stopped as one at the end
ALLIED_DATA_DIR="$work/data" PORT=4000 npm start > "$work/server.log" 2>&1 &
SERVER=$!
set +m
for _ in $(seq 1 180); do grep -q "Allied is running" "$work/server.log" && break; sleep 1; done
S=$(grep "summit-academy (OWNER)" "$work/server.log" | awk '{print $NF}')
H=$(grep "harbor-fc (OWNER)" "$work/server.log" | awk '{print $NF}')
[ -n "$S" ] || { cat "$work/server.log"; exit 1; }
gql() { # token query [variables]
  curl -s localhost:4000/graphql -H 'content-type: application/json' -H "authorization: Bearer $1" \
    -d "$(jq -nc --arg q "$2" --argjson v "${3:-null}" '{query:$q, variables:$v}')"; }
show() { echo "### $1"; shift; gql "$@"; echo; }
SID=$(gql "$S" '{ me { brand { id } } }' | jq -r .data.me.brand.id)
HID=$(gql "$H" '{ me { brand { id } } }' | jq -r .data.me.brand.id)
AL=$(gql "$S" "mutation { createAlliance(input: { name: \"Summit × Harbor\", inviteBrandIds: [\"$HID\"] }) { id } }" | jq -r .data.createAlliance.id)
gql "$H" "mutation { respondToInvitation(allianceId: \"$AL\", accept: true) { id } }" >/dev/null
AG=$(gql "$S" "mutation { proposeAgreement(input: { allianceId: \"$AL\", effectiveFrom: \"2026-11-01T00:00:00Z\", shares: [{ brandId: \"$SID\", basisPoints: 6000 }, { brandId: \"$HID\", basisPoints: 4000 }] }) { id } }" | jq -r .data.proposeAgreement.id)
gql "$H" "mutation { acceptAgreement(agreementId: \"$AG\") { status } }"; echo
JOINT=$(gql "$S" "mutation { createCourse(input: { title: \"Football Analytics\", topics: [\"football\", \"data\"], level: BEGINNER, format: VIDEO, price: { amountMinor: 12900, currency: \"USD\" }, allianceId: \"$AL\" }) { id } }" | jq -r .data.createCourse.id)
OWN=$(gql "$S" '{ courses(first: 5) { edges { node { id title } } } }' | jq -r '.data.courses.edges[] | select(.node.title == "Sports Nutrition Basics") | .node.id')
HOWN=$(gql "$H" '{ courses(first: 10) { edges { node { id owner { id } } } } }' | jq -r --arg h "$HID" '[.data.courses.edges[] | select(.node.owner.id == $h) | .node.id][0]')
echo "SID=$SID HID=$HID AL=$AL JOINT=$JOINT OWN=$OWN HOWN=$HOWN"
C1=$(gql "$S" 'mutation { createCampaign(input: { name: "Search ads", kind: AD_PLACEMENT, startsAt: "2026-11-02T00:00:00Z", budget: { amountMinor: 50000, currency: "USD" } }) { id } }' | jq -r .data.createCampaign.id)
C2=$(gql "$S" 'mutation { createCampaign(input: { name: "Club newsletter", kind: AD_PLACEMENT, startsAt: "2026-11-02T00:00:00Z", budget: { amountMinor: 20000, currency: "USD" } }) { id } }' | jq -r .data.createCampaign.id)
echo "C1=$C1 C2=$C2"
ev() { # type learner day course extra
  echo "{\"type\":\"$1\",\"idempotencyKey\":\"$1-$2-$3-${6:-0}\",\"learnerExternalId\":\"$2\",\"occurredAt\":\"2026-11-${3}T10:00:00Z\"${4:+,\"courseId\":\"$4\"}${5:+,$5}}"; }
SEVENTS="[$(ev IMPRESSION s1 05),$(ev ENROLL s1 05 "$OWN"),$(ev IMPRESSION s2 17),$(ev IMPRESSION s3 18),$(ev IMPRESSION s4 18),$(ev IMPRESSION s1 20),\
$(ev CLICK s2 17 "" "\"campaignId\":\"$C1\""),$(ev ENROLL s2 17 "$JOINT"),$(ev PURCHASE s2 18 "$JOINT" '"amount":{"amountMinor":12900,"currency":"USD"}'),$(ev RATING s2 19 "$JOINT" '"rating":5'),\
$(ev CLICK s3 18 "" "\"campaignId\":\"$C2\""),$(ev PURCHASE s3 18 "$OWN" '"amount":{"amountMinor":4900,"currency":"USD"}'),$(ev PURCHASE s3 25 "$OWN" '"amount":{"amountMinor":4900,"currency":"USD"}'),$(ev RATING s3 26 "$OWN" '"rating":4')]"
HEVENTS="[$(ev IMPRESSION h1 19),$(ev PURCHASE h1 19 "$JOINT" '"amount":{"amountMinor":12900,"currency":"USD"}'),$(ev RATING h1 21 "$JOINT" '"rating":4'),$(ev RATING h2 21 "$HOWN" '"rating":3')]"
show "record S" "$S" 'mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted duplicates rejected { index code message } } }' "{\"e\":$SEVENTS}"
show "record H" "$H" 'mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted duplicates rejected { index code message } } }' "{\"e\":$HEVENTS}"
for w in 02:8000 09:10000 16:12000 23:14000; do
  gql "$S" "mutation { recordCampaignSpend(campaignId: \"$C1\", amount: { amountMinor: ${w#*:}, currency: \"USD\" }, occurredAt: \"2026-11-${w%%:*}T09:00:00Z\") { id } }" >/dev/null
done
gql "$S" "mutation { recordCampaignSpend(campaignId: \"$C2\", amount: { amountMinor: 3000, currency: \"USD\" }, occurredAt: \"2026-11-16T09:00:00Z\") { id } }" >/dev/null
show "market" "$S" 'mutation { setTargetMarketSize(size: 100) { campaignId size } }'
F='query($a: ID) { funnel(from: "2026-11-16T00:00:00Z", to: "2026-11-30T00:00:00Z", allianceId: $a) { marketSize indexDelta current { satisfaction awareness index unknown stages { stage count rate countDelta } } previous { index stages { stage count } } } }'
show "funnel S" "$S" "$F"
show "funnel alliance H" "$H" "$F" "{\"a\":\"$AL\"}"
echo "### funnel.csv"
curl -s "localhost:4000/exports/funnel.csv?from=2026-11-16T00:00:00Z&to=2026-11-30T00:00:00Z" -H "authorization: Bearer $S"
echo "### metrics.csv"
curl -s "localhost:4000/exports/metrics.csv?from=2026-11-16T00:00:00Z&to=2026-11-30T00:00:00Z&allianceId=$AL" -H "authorization: Bearer $H" | head -6
show "impact" "$H" "{ allianceImpact(allianceId: \"$AL\", from: \"2026-11-02T00:00:00Z\", to: \"2026-11-30T00:00:00Z\", bucket: WEEK) { memberIds points { bucketStart uplift usable joint { satisfaction ratings } members { satisfaction ratings } } fit { points reason coefficients { name estimate } } } }"
show "budget" "$S" "{ suggestBudget(campaignIds: [\"$C1\", \"$C2\"], total: { amountMinor: 40000, currency: \"USD\" }, objective: CONVERSIONS, weeks: 4) { method expected warnings shares { campaignId amount { amountMinor } share expected expectedLow expectedHigh ctr conversionRate weeksOfHistory } } }"
echo "### bi stream"
ALLIED_TOKEN=$H node examples/bi-stream.mjs "$AL" > "$work/bi.csv" 2>&1 &
BI=$!
sleep 2
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
gql "$S" 'mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }' "{\"e\":[{\"type\":\"PURCHASE\",\"idempotencyKey\":\"live-1\",\"learnerExternalId\":\"s5\",\"occurredAt\":\"$NOW\",\"courseId\":\"$JOINT\",\"amount\":{\"amountMinor\":12900,\"currency\":\"USD\"}}]}"; echo
sleep 3
kill $BI; wait $BI
cat "$work/bi.csv"
kill -TERM -- -"$SERVER"; wait "$SERVER"
rm -rf "$work"
