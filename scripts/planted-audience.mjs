#!/usr/bin/env node
// A small seeded audience for the README's precision-marketing walk-through, as NDJSON for POST /ingest.
// 120 learners (reader-0 … reader-119): the even ones are into course A and its creative, the odd ones into
// course B and its creative. A learner clicks the creative of their taste on half of the impressions, the
// other's one in ten, and any other creative one in twenty.
//
//   history <courseA> <creativeA> <courseB> <creativeB>
//       three course VIEWs each, then both creatives shown on 14 evenings from 2026-11-01
//       (21:00–21:50 in Asia/Shanghai), with the clicks
//   serve <campaignId> <creativeA> <creativeB> [rounds]
//       asks the running server (ALLIED_URL, default http://localhost:4000/graphql, token in $S) for
//       bestCreative for every learner, now, `rounds` (3) times over, and prints the impression of the
//       creative it names, at the moment it was asked, with the click a tenth of a second later
import process from 'node:process';

let state = 7;
const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
const line = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const LEARNERS = 120;
const DAY = 86_400_000;

/** The planted chance that learner `l` clicks `creative`. */
function clickChance(l, creative, a, b) {
  const mine = l % 2 === 0 ? a : b;
  const theirs = l % 2 === 0 ? b : a;
  return creative === mine ? 0.5 : creative === theirs ? 0.1 : 0.05;
}

/** The impression, and the click `clickAfterMs` later when the learner clicks. */
function impression(l, creative, at, key, a, b, clickAfterMs = 45_000) {
  const base = { learnerExternalId: `reader-${l}`, creativeId: creative };
  line({ type: 'IMPRESSION', idempotencyKey: `${key}-i`, occurredAt: new Date(at).toISOString(), ...base });
  if (random() < clickChance(l, creative, a, b)) line({ type: 'CLICK', idempotencyKey: `${key}-c`, occurredAt: new Date(at + clickAfterMs).toISOString(), ...base });
}

function history([courseA, a, courseB, b]) {
  const start = Date.parse('2026-11-01T13:00:00Z'); // 21:00 in Shanghai
  for (let l = 0; l < LEARNERS; l++) {
    const course = l % 2 === 0 ? courseA : courseB;
    for (let v = 0; v < 3; v++) {
      line({ type: 'VIEW', idempotencyKey: `planted-v-${l}-${v}`, learnerExternalId: `reader-${l}`, courseId: course, occurredAt: new Date(start - (v + 1) * DAY).toISOString() });
    }
    for (let d = 0; d < 14; d++) {
      for (const creative of [a, b]) impression(l, creative, start + d * DAY + Math.floor(random() * 3_000_000), `planted-${l}-${d}-${creative}`, a, b);
    }
  }
}

async function serve([campaign, a, b, rounds = '3']) {
  const url = process.env.ALLIED_URL ?? 'http://localhost:4000/graphql';
  if (!process.env.S) throw new Error('set S to a token of the brand');
  const gql = async (query, variables) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.S}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const run = Date.now().toString(36); // keys of their own, run after run
  const ids = [];
  for (let l = 0; l < LEARNERS; l++) ids.push((await gql('query($e: String) { learner(externalId: $e) { id } }', { e: `reader-${l}` })).learner.id);
  for (let round = 0; round < Number(rounds); round++) {
    for (let l = 0; l < LEARNERS; l++) {
      const at = Date.now();
      const { bestCreative } = await gql('query($c: ID!, $l: ID!) { bestCreative(campaignId: $c, learnerId: $l) { creative { id } } }', { c: campaign, l: ids[l] });
      // Clicked at once: an experiment counts only what happened before it ended.
      if (bestCreative.creative) impression(l, bestCreative.creative.id, at, `served-${run}-${l}-${round}`, a, b, 100);
    }
  }
}

const [command, ...args] = process.argv.slice(2);
if (command === 'history' && args.length === 4) history(args);
else if (command === 'serve' && args.length >= 3) await serve(args);
else {
  console.error('usage: planted-audience.mjs history <courseA> <creativeA> <courseB> <creativeB>\n       planted-audience.mjs serve <campaignId> <creativeA> <creativeB> [evenings]');
  process.exit(2);
}
