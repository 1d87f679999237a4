#!/usr/bin/env node
// Prints, as NDJSON for POST /ingest, a small seeded audience for the README's precision-marketing
// walk-through: 120 learners, half into one promoted course and half into the other (course VIEWs), who
// see both creatives of a campaign on 14 evenings (21:00–21:59 in the campaign's time zone, Asia/Shanghai)
// and click the creative of their taste on about half of the evenings and the other on one in ten.
//
//   node scripts/planted-impressions.mjs <courseA> <creativeA> <courseB> <creativeB> [campaignId] > planted.ndjson
import process from 'node:process';

const [courseA, creativeA, courseB, creativeB, campaignId] = process.argv.slice(2);
if (!creativeB) {
  console.error('usage: planted-impressions.mjs <courseA> <creativeA> <courseB> <creativeB> [campaignId]');
  process.exit(2);
}
let state = 7;
const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
const start = Date.parse('2026-11-01T13:00:00Z'); // 21:00 in Shanghai
const line = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
for (let l = 0; l < 120; l++) {
  const learner = `reader-${l}`;
  const mine = l % 2 === 0 ? [courseA, creativeA] : [courseB, creativeB];
  for (let v = 0; v < 3; v++) {
    line({ type: 'VIEW', idempotencyKey: `planted-v-${l}-${v}`, learnerExternalId: learner, courseId: mine[0], occurredAt: new Date(start - (v + 1) * 86_400_000).toISOString() });
  }
  for (let d = 0; d < 14; d++) {
    for (const creative of [creativeA, creativeB]) {
      const at = start + d * 86_400_000 + Math.floor(random() * 3_000_000);
      const base = { learnerExternalId: learner, creativeId: creative, ...(campaignId ? { campaignId } : {}) };
      line({ type: 'IMPRESSION', idempotencyKey: `planted-i-${l}-${d}-${creative}`, occurredAt: new Date(at).toISOString(), ...base });
      if (random() < (creative === mine[1] ? 0.5 : 0.1)) {
        line({ type: 'CLICK', idempotencyKey: `planted-c-${l}-${d}-${creative}`, occurredAt: new Date(at + 45_000).toISOString(), ...base });
      }
    }
  }
}
