/**
 * Email journeys, measured on a real server (in this process) on a
 * throwaway PostgreSQL database, sending to a local SMTP sink
 * (smtp-server, counting only):
 *
 * 1. Trigger evaluation: BENCH_EMAIL_LEARNERS (100,000) consenting learners
 *    seeded by SQL; one journey's trigger (STAGE_ENTERED PROSPECT, 10%
 *    holdout) evaluated for all of them (JourneyService.enroll, one
 *    statement), three rounds, alternating a fresh journey each time.
 *    Target: ≤ 10 s.
 * 2. Sending: BENCH_EMAIL_MESSAGES (5,000) learners of another brand with a
 *    one-step journey; the rate the sink accepts messages at, over the
 *    middle 80% of them (sustained, not the ramp). Target: ≥ 200 messages/s.
 * 3. Rendering cost per message: the template's Liquid + MJML render alone,
 *    and with the variables a message is rendered with (recommendations,
 *    contact, joint courses), each over 500 messages.
 *
 * Prints one JSON object.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { signToken } from '../src/tenancy/credentials';
import { Principal } from '../src/tenancy/principal';
import { Role } from '../src/tenancy/roles';
import { log, startBenchServer, type BenchServer } from './ml/api';
import { BENCH_TRACKING_SECRET, graphql, machine, positiveInt, withClient } from './support';

const MJML = `<mjml><mj-body><mj-section><mj-column>
  <mj-text>Hello {{ learner.name }}, from {{ brand.name }}</mj-text>
  {% for c in courses %}<mj-text>{{ c.title }}: {{ c.price }}</mj-text>{% endfor %}
  <mj-button href="https://shop.example/courses">See the courses</mj-button>
</mj-column></mj-section></mj-body></mjml>`;

/** The SMTP sink (bench/email/sink.js) in its own process; `accepted` holds the epoch ms of each accepted message. */
async function sink(): Promise<{ url: string; accepted: number[]; close(): Promise<void> }> {
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../bench/email/sink.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const accepted: number[] = [];
  let buffer = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', () => reject(new Error('the SMTP sink exited')));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('PORT ')) resolve(Number(line.slice(5)));
        else if (line.startsWith('ACCEPTED ')) for (const t of line.slice(9).split(' ')) accepted.push(Number(t));
      }
    });
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    accepted,
    close: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')))),
  };
}

interface Brand {
  id: string;
  token: string;
  campaign: string;
  template: string;
}

async function brand(bench: BenchServer, name: string, learners: number, active: boolean): Promise<Brand> {
  const admin = signToken(bench.keys, { sub: 'bench-admin', roles: [Role.PLATFORM_ADMIN] }, 3600);
  const id = (await graphql(bench.url, admin, `mutation($i: CreateBrandInput!) { createBrand(input: $i) { id } }`, {
    i: { slug: `${name.toLowerCase()}-${Date.now()}`, name, kind: 'KNOWLEDGE_PLATFORM' },
  })).createBrand.id as string;
  const token = signToken(bench.keys, { sub: 'bench-owner', tid: id, roles: [Role.OWNER] }, 3600);
  await graphql(bench.url, token, `mutation { setEmailSettings(input: { quietStartHour: 0, quietEndHour: 0, weeklyCap: 100, perMinute: 1000000 }) { perMinute } }`);
  for (let i = 0; i < 5; i++) {
    const course = (await graphql(bench.url, token, `mutation($i: CreateCourseInput!) { createCourse(input: $i) { id } }`, {
      i: { title: `Course ${i}`, topics: ['python'], level: 'BEGINNER', format: 'VIDEO', price: { amountMinor: 4900, currency: 'USD' } },
    })).createCourse.id;
    await graphql(bench.url, token, `mutation($id: ID!) { updateCourse(id: $id, input: { status: PUBLISHED }) { id } }`, { id: course });
  }
  const campaign = (await graphql(bench.url, token, `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`, {
    i: { name: 'Bench', kind: 'EMAIL', startsAt: new Date(Date.now() - 3_600_000).toISOString(), budget: { amountMinor: 1, currency: 'USD' } },
  })).createCampaign.id as string;
  if (active) await graphql(bench.url, token, `mutation($id: ID!) { setCampaignStatus(id: $id, status: ACTIVE) { id } }`, { id: campaign });
  const template = (await graphql(bench.url, token, `mutation($i: SaveEmailTemplateInput!) { saveEmailTemplate(input: $i) { id } }`, {
    i: { name: 'Bench', subject: 'Hello {{ learner.name }}', mjml: MJML, text: 'Hello {{ learner.name }}', recommendCount: 3 },
  })).saveEmailTemplate.id as string;
  // Learners and their contacts, seeded directly: setting up is not what is measured.
  await withClient(bench.databaseUrl, async (client) => {
    await client.query(
      `insert into learners (tenant_id, id, external_id, last_seen_at)
       select $1, gen_random_uuid(), 'l' || g, now() - interval '1 day' from generate_series(1, $2) g`,
      [id, learners],
    );
    await client.query(
      `insert into learner_contacts (tenant_id, learner_id, email, name, consent, consent_at, consent_source)
       select tenant_id, id, external_id || '@learners.example', 'Learner ' || external_id, 'OPTED_IN', now(), 'bench'
       from learners where tenant_id = $1`,
      [id],
    );
    await client.query('analyze learners; analyze learner_contacts');
  });
  return { id, token, campaign, template };
}

async function journey(bench: BenchServer, b: Brand): Promise<string> {
  return (await graphql(bench.url, b.token, `mutation($i: CreateJourneyInput!) { createJourney(input: $i) { id } }`, {
    i: { campaignId: b.campaign, name: `Bench ${Date.now()}`, trigger: { kind: 'STAGE_ENTERED', stage: 'PROSPECT' }, steps: [{ kind: 'SEND', templateId: b.template }], holdoutPercent: 10 },
  })).createJourney.id as string;
}

async function main(): Promise<void> {
  const adminUrl = process.env.BENCH_DATABASE_URL;
  if (!adminUrl) throw new Error('BENCH_DATABASE_URL is needed (bench/run-email.sh starts a cluster)');
  const learners = positiveInt('BENCH_EMAIL_LEARNERS', 100_000);
  const messages = positiveInt('BENCH_EMAIL_MESSAGES', 5_000);
  const smtp = await sink();
  const bench = await startBenchServer(adminUrl, {
    SMTP_URL: smtp.url,
    ALLIED_TRACKING_SECRET: BENCH_TRACKING_SECRET,
    ALLIED_JOURNEY_TICK_SECONDS: '1',
    ALLIED_MAIL_CONCURRENCY: process.env.ALLIED_MAIL_CONCURRENCY ?? '8',
    ...Object.fromEntries(['DATABASE_POOL_SIZE', 'ALLIED_POOL_SHARE_PERCENT'].filter((k) => process.env[k]).map((k) => [k, process.env[k]!])),
  });
  const app = bench.server.app;
  try {
    // 1. Trigger evaluation. The campaign is not ACTIVE, so the journeys' own ticks leave their learners alone.
    log(`seeding ${learners} consenting learners`);
    const big = await brand(bench, 'Triggers', learners, false);
    const rounds: { ms: number; entered: number }[] = [];
    for (let round = 0; round < 3; round++) {
      const id = await journey(bench, big);
      const started = performance.now();
      const entered = await app.runAs(Principal.system(big.id, 'bench'), async (ctx) => {
        const j = (await app.services.journeys.get(ctx, id))!;
        return app.services.journeys.enroll(ctx, j);
      });
      rounds.push({ ms: Math.round(performance.now() - started), entered });
      log(`trigger round ${round + 1}: ${entered} learners entered (holdout included) in ${rounds[round].ms} ms`);
    }

    // 3 first (the server is idle): rendering cost per message.
    const render = await app.runAs(Principal.system(big.id, 'bench'), async (ctx) => {
      const template = (await app.services.templates.get(ctx, big.template))!;
      const ids: string[] = (await (await ctx.manager()).query(`select id from learners where tenant_id = $1 limit 500`, [big.id])).map((r: { id: string }) => r.id);
      const variables = [];
      let t = performance.now();
      for (const learner of ids) variables.push((await app.services.templates.variables(ctx, template, learner, null, 'https://allied.test/u/x'))!);
      const variablesMs = (performance.now() - t) / ids.length;
      t = performance.now();
      for (const v of variables) await app.services.templates.render(template, v);
      const renderMs = (performance.now() - t) / ids.length;
      return { messages: ids.length, variablesMsPerMessage: +variablesMs.toFixed(3), renderMsPerMessage: +renderMs.toFixed(3) };
    });
    log(`rendering: ${render.renderMsPerMessage} ms per message (Liquid + MJML), ${render.variablesMsPerMessage} ms for its variables`);

    // 2. Sending.
    log(`seeding ${messages} learners for sending`);
    const send = await brand(bench, 'Sending', messages, true);
    const started = Date.now();
    await journey(bench, send);
    const treated = await waitForMessages(bench, send.id, messages);
    log(`${treated} treated learners (10% holdout); waiting for the sink to accept them`);
    const deadline = Date.now() + 600_000;
    while (smtp.accepted.length < treated && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const t = smtp.accepted;
    const lo = t[Math.floor(t.length * 0.1)];
    const hi = t[Math.floor(t.length * 0.9) - 1];
    const sustained = ((Math.floor(t.length * 0.9) - 1 - Math.floor(t.length * 0.1)) / ((hi - lo) / 1000));
    const overall = t.length / ((t[t.length - 1] - started) / 1000);
    log(`sent ${t.length} messages: ${sustained.toFixed(0)} messages/s sustained (middle 80%), ${overall.toFixed(0)}/s from createJourney to the last`);

    console.log(
      JSON.stringify({
        machine: machine(),
        date: new Date().toISOString(),
        triggers: { learners, rounds, targetMs: 10_000 },
        sending: { messages: t.length, sustainedPerSecond: Math.round(sustained), overallPerSecond: Math.round(overall), concurrency: Number(bench.config.mail.concurrency), target: 200 },
        render,
      }),
    );
  } finally {
    await bench.close();
    await smtp.close();
  }
}

/** Waits for the journey's messages to be queued; returns how many (the treated learners). */
async function waitForMessages(bench: BenchServer, brandId: string, learners: number): Promise<number> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const [row] = (await withClient(bench.databaseUrl, (c) =>
      c.query(
        `select (select count(*) from journey_enrollments where tenant_id = $1)::int as entered,
                (select count(*) from journey_enrollments where tenant_id = $1 and holdout)::int as held,
                (select count(*) from email_messages where tenant_id = $1)::int as queued`,
        [brandId],
      ),
    )).rows;
    if (row.entered === learners && row.queued === learners - row.held) return row.queued;
    if (Date.now() > deadline) throw new Error(`journey stalled: ${JSON.stringify(row)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
