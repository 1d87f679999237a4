/**
 * The feedback queue under load: FEEDBACK events recorded through GraphQL at
 * a steady BENCH_FEEDBACK_RATE per second (default 200) for
 * BENCH_FEEDBACK_SECONDS (default 30), in batches every 100 ms, into a
 * real server on a throwaway PostgreSQL database; the demands.extract jobs
 * (src/services/demand.service.ts) extract them meanwhile. Reported: what
 * was sent and how fast, the extraction rate over the run, the lag (from a
 * batch's recording to its job's completion) at p50 / p99 / max, and the
 * backlog left when sending stopped. Then a burst: BENCH_FEEDBACK_BURST
 * (default 5000) events recorded at once, and the rate at which the queue
 * drains them. Texts are the evaluation set's sentences, cycled. Prints
 * one JSON object.
 */
import { loadEvalSet } from '../../src/ml/ner/eval';
import { signToken } from '../../src/tenancy/credentials';
import { Role } from '../../src/tenancy/roles';
import { graphql, positiveInt, withClient } from '../support';
import { log, sleep, startBenchServer, type BenchServer } from './api';

const RECORD = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected { index message } } }`;

interface Pending {
  sentAt: number;
  events: number;
}

async function brand(bench: BenchServer): Promise<{ id: string; ingest: string }> {
  const admin = signToken(bench.keys, { sub: 'bench-admin', roles: [Role.PLATFORM_ADMIN] }, 3600);
  const created = await graphql(bench.url, admin, `mutation($i: CreateBrandInput!) { createBrand(input: $i) { id } }`, {
    i: { slug: `feedback-${Date.now()}`, name: 'Feedback Bench', kind: 'KNOWLEDGE_PLATFORM' },
  });
  const id = created.createBrand.id as string;
  return { id, ingest: signToken(bench.keys, { sub: 'bench-ingest', tid: id, roles: [Role.INGEST] }, 3600) };
}

/** Extraction jobs still to run, and when each finished job finished. */
async function jobs(bench: BenchServer, brandId: string): Promise<{ open: number; finished: { created: number; finished: number; events: number }[] }> {
  return withClient(bench.databaseUrl, async (client) => {
    const rows = (
      await client.query(
        `select state, extract(epoch from created_at) * 1000 as created, extract(epoch from finished_at) * 1000 as finished,
           jsonb_array_length(payload->'events') as events
         from jobs where tenant_id = $1 and kind = 'demands.extract'`,
        [brandId],
      )
    ).rows as { state: string; created: string; finished: string | null; events: number }[];
    return {
      open: rows.filter((r) => r.state === 'PENDING' || r.state === 'RUNNING').length,
      finished: rows.filter((r) => r.state === 'DONE').map((r) => ({ created: Number(r.created), finished: Number(r.finished), events: r.events })),
    };
  });
}

async function main(): Promise<void> {
  const adminUrl = process.env.BENCH_DATABASE_URL;
  if (!adminUrl) throw new Error('BENCH_DATABASE_URL is needed (bench/run-ner.sh starts a cluster)');
  const rate = positiveInt('BENCH_FEEDBACK_RATE', 200);
  const seconds = positiveInt('BENCH_FEEDBACK_SECONDS', 30);
  const burst = positiveInt('BENCH_FEEDBACK_BURST', 5000);
  const texts = loadEvalSet().map((s) => s.text);
  const bench = await startBenchServer(adminUrl);
  try {
    const { id, ingest } = await brand(bench);
    let n = 0;
    const batch = (size: number) =>
      Array.from({ length: size }, () => {
        const k = n++;
        return { type: 'FEEDBACK', idempotencyKey: `fb-${k}`, learnerExternalId: `learner-${k % 2000}`, text: texts[k % texts.length], occurredAt: new Date().toISOString() };
      });
    const send = async (events: Record<string, unknown>[]) => {
      for (let i = 0; i < events.length; i += 1000) {
        const data = await graphql(bench.url, ingest, RECORD, { e: events.slice(i, i + 1000) });
        if (data.recordEvents.accepted !== Math.min(1000, events.length - i)) throw new Error(`rejected: ${JSON.stringify(data.recordEvents.rejected[0])}`);
      }
    };

    log(`steady: ${rate} FEEDBACK events/s for ${seconds} s`);
    const perTick = Math.max(1, Math.round(rate / 10));
    const started = Date.now();
    const sent: Pending[] = [];
    for (let tick = 0; tick < seconds * 10; tick++) {
      const due = started + tick * 100;
      if (Date.now() < due) await sleep(due - Date.now());
      const sentAt = Date.now();
      await send(batch(perTick));
      sent.push({ sentAt, events: perTick });
    }
    const sendSeconds = (Date.now() - started) / 1000;
    const atStop = await jobs(bench, id);
    const backlogEvents = sent.reduce((s, p) => s + p.events, 0) - atStop.finished.reduce((s, j) => s + j.events, 0);
    while ((await jobs(bench, id)).open > 0) await sleep(100);
    const steady = await jobs(bench, id);
    const lags = steady.finished.map((j) => j.finished - j.created).sort((a, b) => a - b);
    const lastDone = Math.max(...steady.finished.map((j) => j.finished));
    const steadyEvents = sent.reduce((s, p) => s + p.events, 0);
    const pct = (q: number) => Math.round(lags[Math.min(lags.length - 1, Math.floor(q * lags.length))]);

    log(`burst: ${burst} FEEDBACK events at once`);
    const before = steady.finished.length;
    const burstStart = Date.now();
    await send(batch(burst));
    const recorded = (Date.now() - burstStart) / 1000;
    while ((await jobs(bench, id)).open > 0) await sleep(50);
    const burstDone = (Date.now() - burstStart) / 1000;
    const after = await jobs(bench, id);

    const demands = await withClient(bench.databaseUrl, async (c) => Number((await c.query(`select count(*) from learner_demands where tenant_id = $1`, [id])).rows[0].count));
    console.log(
      JSON.stringify(
        {
          steady: {
            targetRate: rate,
            events: steadyEvents,
            sentRate: Math.round(steadyEvents / sendSeconds),
            extractedRate: Math.round(steadyEvents / ((lastDone - started) / 1000)),
            jobs: steady.finished.length,
            lagMs: { p50: pct(0.5), p99: pct(0.99), max: Math.round(lags[lags.length - 1]) },
            backlogEventsWhenSendingStopped: backlogEvents,
          },
          burst: { events: burst, recordSeconds: recorded, drainedSeconds: burstDone, drainRate: Math.round(burst / burstDone), jobs: after.finished.length - before },
          demandsStored: demands,
        },
        null,
        1,
      ),
    );
  } finally {
    await bench.close();
  }
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
