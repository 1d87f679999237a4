import { TrackingTokens } from '../../src/mail/tokens';
import { Role } from '../../src/tenancy/roles';
import { sleep, waitFor } from '../support/jobs';
import { SmtpSink } from '../support/smtp';
import { codes, TestApp, type TestBrand } from '../support/server';

/**
 * Email journeys end to end against a real SMTP server: who receives what
 * (consent, holdout, unsubscribe, quiet hours, the weekly cap), the
 * rendered bodies and headers, tracking and attribution, bounces, the
 * report against the holdout, isolation between brands, and forgetLearner.
 */

const SECRET = 'email-test-tracking-secret-0123456789abcdef';
const RECORD = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected { index code message } } }`;
const SETTINGS = `mutation($i: EmailSettingsInput!) { setEmailSettings(input: $i) { timeZone quietStartHour quietEndHour weeklyCap perMinute } }`;
const SAVE = `mutation($i: SaveEmailTemplateInput!) { saveEmailTemplate(input: $i) { id name } }`;
const CREATE_JOURNEY = `mutation($i: CreateJourneyInput!) { createJourney(input: $i) { id status holdoutPercent } }`;
const REPORT = `query($id: ID!) { journeyReport(journeyId: $id) {
  treated { eligible sent delivered bounced suppressed opened clicked converted unsubscribed revenue { amountMinor currency } conversionRate }
  holdout { eligible sent delivered opened clicked converted unsubscribed }
  uplift { rateControl rateTreatment absoluteLift ciLow ciHigh pValue } method } }`;
const HOUR = 3_600_000;

const MJML = `<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hello {{ learner.name }}, from {{ brand.name }}</mj-text>
        {% for c in courses %}<mj-text>Try {{ c.title }} for {{ c.price }}</mj-text>{% endfor %}
        {% if offer %}<mj-text>{{ offer.text }} with code {{ offer.code }}</mj-text>{% endif %}
        <mj-button href="https://shop.example/courses?from=email&amp;x=1">See the courses</mj-button>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;

describe('email journeys', () => {
  let app: TestApp;
  let smtp: SmtpSink;
  let a: TestBrand;
  let b: TestBrand;
  let course: string;
  let campaign: string;
  let template: string;

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    app = await TestApp.start({
      SMTP_URL: smtp.url,
      ALLIED_TRACKING_SECRET: SECRET,
      ALLIED_PUBLIC_URL: 'http://allied.test',
      ALLIED_MAIL_FROM: 'Alpha Academy <news@alpha.example>',
      ALLIED_JOURNEY_TICK_SECONDS: '1',
      ALLIED_MAIL_RETRY_BASE_MS: '50',
      ALLIED_MAIL_MAX_ATTEMPTS: '2',
    });
    a = await app.brand('Email Alpha');
    b = await app.brand('Email Beta');
    course = await app.course(a, { title: 'Python <Basics>' });
    await app.ok(a.token, `mutation($id: ID!) { updateCourse(id: $id, input: { status: PUBLISHED }) { status } }`, { id: course });
    for (const brand of [a, b]) await app.ok(brand.token, SETTINGS, { i: { quietStartHour: 0, quietEndHour: 0, weeklyCap: 3 } });
    campaign = await emailCampaign(a);
    template = (
      await app.ok(a.token, SAVE, {
        i: { name: 'Welcome', subject: 'Welcome, {{ learner.name }}', mjml: MJML, text: 'Hello {{ learner.name }}. {{ offer.text }}', offerCode: 'HELLO10', offerText: '10% off' },
      })
    ).saveEmailTemplate.id;
  });
  afterAll(async () => {
    await app?.stop();
    await smtp?.close();
  });

  async function emailCampaign(brand: TestBrand, extra: Record<string, unknown> = {}): Promise<string> {
    const id = (
      await app.ok(brand.token, `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`, {
        i: { name: 'Newsletter', kind: 'EMAIL', startsAt: new Date(Date.now() - HOUR).toISOString(), budget: { amountMinor: 1000, currency: 'USD' }, ...extra },
      })
    ).createCampaign.id;
    await app.ok(brand.token, `mutation($id: ID!) { setCampaignStatus(id: $id, status: ACTIVE) { status } }`, { id });
    return id;
  }

  const view = (key: string, learner: string, contact?: Record<string, unknown>) => ({
    type: 'VIEW', idempotencyKey: key, learnerExternalId: learner, courseId: course, occurredAt: new Date(Date.now() - 60_000).toISOString(), ...(contact ? { contact } : {}),
  });
  const address = (learner: string) => `${learner}@learners.example`;
  const messages = (brand: TestBrand, journey: string) =>
    app.asBrand(brand.id, (m) => m.query(`select m.id, m.state, m.reason, m.send_at, l.external_id from email_messages m join learners l on l.tenant_id = m.tenant_id and l.id = m.learner_id where m.journey_id = $1`, [journey]));
  const enrollments = (brand: TestBrand, journey: string) =>
    app.asBrand(brand.id, (m) => m.query(`select e.holdout, e.state, e.exit_reason, l.external_id from journey_enrollments e join learners l on l.tenant_id = e.tenant_id and l.id = e.learner_id where e.journey_id = $1`, [journey]));
  const pathOf = (url: string) => new URL(url).pathname;
  /** A header as sent (unfolded), from the parsed message's raw header lines. */
  const header = (mail: { headerLines: readonly { key: string; line: string }[] }, name: string) => {
    const line = mail.headerLines.find((h) => h.key === name.toLowerCase())?.line ?? '';
    return line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
  };
  const unsubscribeLink = (mail: { headerLines: readonly { key: string; line: string }[] }) => /^<([^>]+)>$/.exec(header(mail, 'List-Unsubscribe'))![1];
  const links = (html: string) => [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));

  let journey: string;
  let treated: string[];
  let held: string[];

  it('sends each treated, consenting learner the rendered message once, with unsubscribe headers; nobody else gets anything', async () => {
    const learners = Array.from({ length: 40 }, (_, i) => `learner-${i}`);
    const events = learners.map((l, i) => view(`v-${l}`, l, { email: address(l), name: i === 0 ? 'Ann <b>&' : `Learner ${i}`, consent: 'OPTED_IN', source: 'signup' }));
    events.push(view('v-nocon', 'no-consent', { email: address('no-consent') }));
    events.push(view('v-out', 'opted-out', { email: address('opted-out'), consent: 'OPTED_OUT' }));
    events.push(view('v-nocontact', 'no-contact'));
    expect((await app.ok(a.token, RECORD, { e: events })).recordEvents.accepted).toBe(43);

    journey = (
      await app.ok(a.token, CREATE_JOURNEY, {
        i: { campaignId: campaign, name: 'Welcome prospects', trigger: { kind: 'STAGE_ENTERED', stage: 'PROSPECT' }, steps: [{ kind: 'SEND', templateId: template }], holdoutPercent: 25 },
      })
    ).createJourney.id;
    const entered = await waitFor('enrolment', async () => {
      const rows = await enrollments(a, journey);
      return rows.length === 40 && rows;
    });
    treated = entered.filter((e: any) => !e.holdout).map((e: any) => e.external_id).sort();
    held = entered.filter((e: any) => e.holdout).map((e: any) => e.external_id).sort();
    expect(held.length).toBeGreaterThan(3);
    expect(treated.length).toBeGreaterThan(20);
    await waitFor('every treated learner to receive the message', async () => smtp.received.length >= treated.length, 30_000);
    await sleep(1500);
    expect(smtp.received.map((r) => r.to[0]).sort()).toEqual(treated.map(address).sort());
    for (const nobody of ['no-consent', 'opted-out', 'no-contact', ...held]) expect(smtp.to(address(nobody))).toHaveLength(0);

    const first = smtp.to(address('learner-0'))[0] ?? smtp.received[0];
    const mail = first.mail;
    expect(mail.from?.text).toBe('"Alpha Academy" <news@alpha.example>');
    expect(header(mail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    const unsubscribe = unsubscribeLink(mail);
    expect(unsubscribe).toMatch(/^http:\/\/allied\.test\/u\//);
    expect(mail.messageId).toMatch(/^<[0-9a-f-]{36}@alpha\.example>$/);
    expect(mail.text).toContain(unsubscribe);
    expect(mail.html).toContain(unsubscribe);
    expect(mail.html).toContain('10% off with code HELLO10');
    expect(mail.html).toMatch(/<img src="http:\/\/allied\.test\/t\/o\/[^"]+\.gif"/);
    // Every link of the template goes through the click tracker.
    expect(links(String(mail.html)).filter((l) => l.includes('shop.example'))).toEqual([]);
    if (first.to[0] === address('learner-0')) {
      // The learner's name is text, never markup.
      expect(mail.subject).toBe('Welcome, Ann <b>&');
      expect(mail.html).toContain('Hello Ann &lt;b&gt;&amp;, from Email Alpha');
    }
    const states = await messages(a, journey);
    expect(states.every((m: any) => m.state === 'SENT')).toBe(true);
  });

  it('records opens and clicks as events of the campaign, redirects, and attributes a later purchase to it', async () => {
    const learner = treated[0];
    const mail = smtp.to(address(learner))[0].mail;
    const pixel = /<img src="([^"]+)"/.exec(String(mail.html))![1];
    const click = links(String(mail.html)).find((l) => l.includes('/t/c/'))!;
    const opened = await app.http.get(pathOf(pixel));
    expect(opened.status).toBe(200);
    expect(opened.headers['content-type']).toBe('image/gif');
    const followed = await app.http.get(pathOf(click));
    expect(followed.status).toBe(302);
    expect(followed.headers.location).toBe('https://shop.example/courses?from=email&x=1');
    await app.http.get(pathOf(click)); // a second click of the same link is the same event
    const events = await app.asBrand(a.id, (m) =>
      m.query(`select e.type, e.campaign_id from events e join learners l on l.id = e.learner_id and l.tenant_id = e.tenant_id where l.external_id = $1 and e.type like 'EMAIL_%' order by e.type`, [learner]),
    );
    expect(events).toEqual([{ type: 'EMAIL_CLICK', campaign_id: campaign }, { type: 'EMAIL_OPEN', campaign_id: campaign }]);
    await app.ok(a.token, RECORD, {
      e: [{ type: 'PURCHASE', idempotencyKey: 'buy-after-click', learnerExternalId: learner, courseId: course, amount: { amountMinor: 4900, currency: 'USD' }, occurredAt: new Date().toISOString() }],
    });
    const metrics = await app.ok(a.token, `query($id: ID!) { campaign(id: $id) { metrics { clicks conversions revenue { amountMinor currency } } } }`, { id: campaign });
    expect(metrics.campaign.metrics).toEqual({ clicks: 1, conversions: 1, revenue: [{ amountMinor: 4900, currency: 'USD' }] });

    const report = (await app.ok(a.token, REPORT, { id: journey })).journeyReport;
    expect(report.treated).toMatchObject({ eligible: treated.length, sent: treated.length, delivered: treated.length, bounced: 0, opened: 1, clicked: 1, converted: 1, revenue: [{ amountMinor: 4900, currency: 'USD' }] });
    expect(report.holdout).toMatchObject({ eligible: held.length, sent: 0, opened: 0, converted: 0 });
    expect(report.uplift.rateTreatment).toBeCloseTo(1 / treated.length, 10);
    expect(report.uplift.rateControl).toBe(0);
    expect(report.uplift.ciLow).toBeLessThan(report.uplift.absoluteLift);
    expect(report.uplift.ciHigh).toBeGreaterThan(report.uplift.absoluteLift);
  });

  it('refuses forged, altered, expired and misused tokens alike, and records nothing for them', async () => {
    const mail = smtp.to(address(treated[1]))[0].mail;
    const click = links(String(mail.html)).find((l) => l.includes('/t/c/'))!;
    const token = pathOf(click).slice('/t/c/'.length);
    const [payload, mac] = token.split('.');
    const flipped = `${payload}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'AB' : 'AA'}`;
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString());
    body[4] = 'https://evil.example/';
    const altered = `${Buffer.from(JSON.stringify(body)).toString('base64url')}.${mac}`;
    const tokens = new TrackingTokens(SECRET);
    const expired = tokens.sign({ action: 'click', brandId: a.id, messageId: body[2], url: 'https://shop.example/', expires: Math.floor(Date.now() / 1000) - 1 });
    const otherKey = new TrackingTokens('another-deployment-secret-0123456789abcdef').sign({ action: 'click', brandId: a.id, messageId: body[2], url: 'https://shop.example/', expires: 2e9 });
    const answers = [];
    for (const bad of [flipped, altered, expired, otherKey, 'garbage', `${payload}.`]) {
      const res = await app.http.get(`/t/c/${bad}`);
      answers.push([res.status, res.text]);
      expect(res.headers.location).toBeUndefined();
    }
    expect(new Set(answers.map((x) => JSON.stringify(x))).size).toBe(1);
    expect(answers[0][0]).toBe(404);
    // A click token is not an unsubscribe token.
    expect((await app.http.post(`/u/${token}`)).status).toBe(404);
    const unsubscribe = unsubscribeLink(mail);
    const [up, umac] = pathOf(unsubscribe).slice(3).split('.');
    expect((await app.http.post(`/u/${up}.${umac.slice(1)}`)).status).toBe(404);
    const learner = await app.asBrand(a.id, (m) => m.query(`select c.consent from learner_contacts c join learners l on l.id = c.learner_id and l.tenant_id = c.tenant_id where l.external_id = $1`, [treated[1]]));
    expect(learner[0].consent).toBe('OPTED_IN');
    const clicks = await app.asBrand(a.id, (m) => m.query(`select count(*)::int as n from events where type = 'EMAIL_CLICK'`));
    expect(clicks[0].n).toBe(1);
  });

  it('unsubscribes at once by the one-click POST; the weekly cap holds back further mail', async () => {
    const learner = treated[1];
    const mail = smtp.to(address(learner))[0].mail;
    const unsubscribe = unsubscribeLink(mail);
    const page = await app.http.get(pathOf(unsubscribe));
    expect(page.status).toBe(200);
    expect(page.text).toContain('<form method="post">');
    // GET alone changes nothing (mail scanners follow links).
    const consent = async () =>
      (await app.asBrand(a.id, (m) => m.query(`select c.consent from learner_contacts c join learners l on l.id = c.learner_id and l.tenant_id = c.tenant_id where l.external_id = $1`, [learner])))[0].consent;
    expect(await consent()).toBe('OPTED_IN');
    const post = await app.http.post(pathOf(unsubscribe)).type('form').send('List-Unsubscribe=One-Click');
    expect(post.status).toBe(200);
    expect(await consent()).toBe('OPTED_OUT');
    // An event that says "opted in" but is older than the unsubscribe does not undo it.
    await app.ok(a.token, RECORD, { e: [{ ...view('late-optin', learner, { email: address(learner), consent: 'OPTED_IN' }), occurredAt: new Date(Date.now() - HOUR).toISOString() }] });
    expect(await consent()).toBe('OPTED_OUT');

    // The first journey ends here: later tests add learners of its stage.
    await app.ok(a.token, `mutation($id: ID!) { setJourneyStatus(id: $id, status: ENDED) { status } }`, { id: journey });
    // A second journey to the same stage, with a cap of one email a week.
    await app.ok(a.token, SETTINGS, { i: { weeklyCap: 1 } });
    const before = smtp.received.length;
    const second = (
      await app.ok(a.token, CREATE_JOURNEY, { i: { campaignId: campaign, name: 'Second', trigger: { kind: 'STAGE_ENTERED', stage: 'PROSPECT' }, steps: [{ kind: 'SEND', templateId: template }], holdoutPercent: 0 } })
    ).createJourney.id;
    await waitFor('the second journey to run', async () => {
      const m = await messages(a, second);
      return m.length > 0 && m.length === (await enrollments(a, second)).filter((e: any) => e.state !== 'EXITED').length && m.every((x: any) => x.state !== 'QUEUED');
    });
    await sleep(1000);
    const rows = await messages(a, second);
    expect(smtp.received.length - before).toBe(rows.filter((m: any) => m.state === 'SENT').length);
    // Everyone who got the first journey's email this week is held back; the former holdout may receive one.
    for (const m of rows) {
      if (treated.includes(m.external_id)) expect(m).toMatchObject({ state: 'SUPPRESSED', reason: 'WEEKLY_CAP' });
    }
    expect(rows.map((m: any) => m.external_id)).not.toContain(learner);
    expect(smtp.to(address(learner))).toHaveLength(1);
    await app.ok(a.token, SETTINGS, { i: { weeklyCap: 3 } });
    await app.ok(a.token, `mutation($id: ID!) { setJourneyStatus(id: $id, status: ENDED) { status } }`, { id: second });
  });

  it('sends nothing in quiet hours: the message waits for the first allowed time', async () => {
    const hour = new Date().getUTCHours();
    await app.ok(b.token, SETTINGS, { i: { timeZone: 'UTC', quietStartHour: hour, quietEndHour: (hour + 2) % 24 } });
    const bCampaign = await emailCampaign(b);
    await app.ok(b.token, RECORD, { e: [{ ...view('q1', 'quiet-learner', { email: address('quiet-learner'), consent: 'OPTED_IN' }), courseId: null }] });
    const bTemplate = (await app.ok(b.token, SAVE, { i: { name: 'Quiet', subject: 'Hi', mjml: MJML, text: 'Hi' } })).saveEmailTemplate.id;
    const quiet = (
      await app.ok(b.token, CREATE_JOURNEY, { i: { campaignId: bCampaign, name: 'Quiet', trigger: { kind: 'STAGE_ENTERED', stage: 'PROSPECT' }, steps: [{ kind: 'SEND', templateId: bTemplate }], holdoutPercent: 0 } })
    ).createJourney.id;
    const [message] = await waitFor('the message to be queued', async () => {
      const m = await messages(b, quiet);
      return m.length === 1 && m;
    });
    await sleep(2500);
    expect(smtp.to(address('quiet-learner'))).toHaveLength(0);
    const [now] = await messages(b, quiet);
    expect(now.state).toBe('QUEUED');
    const allowed = new Date(now.send_at).getTime();
    const end = new Date();
    end.setUTCHours(hour + 2, 0, 0, 0);
    expect(allowed).toBeGreaterThanOrEqual(end.getTime());
    expect(message.state).toBe('QUEUED');
    await app.ok(b.token, `mutation($id: ID!) { setJourneyStatus(id: $id, status: ENDED) { status } }`, { id: quiet });
  });

  it('retries a refused recipient a bounded number of times, then records the bounce without the address', async () => {
    const bounceCampaign = await emailCampaign(a);
    smtp.refuse = (r) => r === address('bouncer');
    await app.ok(a.token, RECORD, { e: [view('b1', 'bouncer', { email: address('bouncer'), consent: 'OPTED_IN' })] });
    const bounceJourney = (
      await app.ok(a.token, CREATE_JOURNEY, { i: { campaignId: bounceCampaign, name: 'Bounce', trigger: { kind: 'SEGMENT_ENTERED', segment: 'bouncers' }, steps: [{ kind: 'SEND', templateId: template }], holdoutPercent: 0 } })
    ).createJourney.id;
    await app.asBrand(a.id, (m) => m.query(`update learners set segment = 'bouncers' where external_id = 'bouncer'`));
    const [bounced] = await waitFor('the bounce', async () => {
      const m = await messages(a, bounceJourney);
      return m.length === 1 && m[0].state === 'BOUNCED' && m;
    }, 30_000);
    expect(bounced.reason).toMatch(/550|mailbox unavailable/);
    expect(bounced.reason).not.toContain(address('bouncer'));
    const jobs = await app.asBrand(a.id, (m) => m.query(`select attempts, state from jobs where kind = 'mail.send' and payload->>'messageId' = $1`, [bounced.id]));
    expect(jobs).toEqual([{ attempts: 2, state: 'DONE' }]);
    expect((await app.ok(a.token, REPORT, { id: bounceJourney })).journeyReport.treated).toMatchObject({ sent: 1, delivered: 0, bounced: 1 });
    smtp.refuse = () => false;
  });

  it('keeps contacts, templates and journeys to their brand', async () => {
    const learnerId = (await app.ok(a.token, `{ learner(externalId: "learner-2") { id contact { email consent consentSource } } }`)).learner;
    expect(learnerId.contact).toEqual({ email: address('learner-2'), consent: 'OPTED_IN', consentSource: 'signup' });
    const analyst = app.token(a.id, [Role.ANALYST]);
    expect(codes(await app.gql(analyst, `query($id: ID!) { learner(id: $id) { contact { email } } }`, { id: learnerId.id }))).toContain('FORBIDDEN');
    expect((await app.ok(b.token, `query($id: ID!) { learner(id: $id) { id } }`, { id: learnerId.id })).learner).toBeNull();
    const foreign = `query($id: ID!, $j: ID!) { emailTemplate(id: $id) { id } journey(id: $j) { id } journeyReport(journeyId: $j) { method } }`;
    expect(await app.ok(b.token, foreign, { id: template, j: journey })).toEqual({ emailTemplate: null, journey: null, journeyReport: null });
    expect(codes(await app.gql(b.token, `query($id: ID!, $l: ID!) { previewTemplate(id: $id, learnerId: $l) { subject } }`, { id: template, l: learnerId.id }))).toEqual(['NOT_FOUND']);
    expect(codes(await app.gql(b.token, `mutation($l: ID!) { forgetLearner(learnerId: $l) { learnerId } }`, { l: learnerId.id }))).toEqual(['NOT_FOUND']);
    expect(codes(await app.gql(b.token, CREATE_JOURNEY, { i: { campaignId: campaign, name: 'x', trigger: { kind: 'STAGE_ENTERED', stage: 'NEW' }, steps: [{ kind: 'SEND', templateId: template }] } }))).toEqual(['NOT_FOUND']);
    const seen = await app.asBrand(b.id, (m) => m.query(`select (select count(*)::int from learner_contacts) as contacts, (select count(*)::int from email_messages) as messages, (select count(*)::int from email_templates) as templates`));
    expect(seen[0].contacts).toBe(1);
    expect(seen[0].templates).toBe(1);
    const preview = (await app.ok(a.token, `query($id: ID!, $l: ID!) { previewTemplate(id: $id, learnerId: $l) { subject html text } }`, { id: template, l: learnerId.id })).previewTemplate;
    expect(preview.subject).toBe('Welcome, Learner 2');
    expect(preview.html).toContain('Hello Learner 2, from Email Alpha');
  });

  it('rejects a broken template at save time with the part and line, and keeps nothing of it', async () => {
    const liquid = await app.gql(a.token, SAVE, { i: { name: 'Broken', subject: 'Hi', mjml: '<mjml>\n<mj-body>\n{{ learner.name \n</mj-body></mjml>', text: 'x' } });
    expect(codes(liquid)).toEqual(['BAD_USER_INPUT']);
    expect(liquid.errors![0].message).toMatch(/html is broken at line 3/);
    const tag = await app.gql(a.token, SAVE, { i: { name: 'Broken', subject: 'Hi', mjml: '<mjml>\n<mj-body>\n<mj-section><mj-column>\n<mj-txt>x</mj-txt>\n</mj-column></mj-section></mj-body></mjml>', text: 'x' } });
    expect(codes(tag)).toEqual(['BAD_USER_INPUT']);
    expect(tag.errors![0].message).toMatch(/line 4.*mj-txt/);
    const filter = await app.gql(a.token, SAVE, { i: { name: 'Broken', subject: 'Hi {{ learner.name | shout }}', mjml: MJML, text: 'x' } });
    expect(filter.errors![0].message).toMatch(/subject is broken at line 1: undefined filter: shout/);
    expect((await app.ok(a.token, `{ emailTemplates { name } }`)).emailTemplates.map((t: any) => t.name)).toEqual(['Welcome']);
  });

  it('forgetLearner leaves no personal data of the learner in any table, and keeps the anonymous counts', async () => {
    const learner = treated[0];
    const id = (await app.ok(a.token, `query($x: String) { learner(externalId: $x) { id } }`, { x: learner })).learner.id;
    await app.ok(a.token, RECORD, { e: [{ type: 'FEEDBACK', idempotencyKey: 'fb-forget', learnerExternalId: learner, occurredAt: new Date().toISOString(), text: `Mail me at ${address(learner)} about python please` }] });
    const before = (await app.ok(a.token, REPORT, { id: journey })).journeyReport.treated;
    const forgotten = await app.ok(a.token, `mutation($l: ID!) { forgetLearner(learnerId: $l) { learnerId forgottenAt } }`, { l: id });
    expect(forgotten.forgetLearner.learnerId).toBe(id);
    // Every text and JSON column of every table, searched for the address, the external id and the name.
    const columns: { table_name: string; column_name: string }[] = await app.sql(
      `select table_name, column_name from information_schema.columns
       where table_schema = 'public' and data_type in ('text', 'jsonb', 'json', 'character varying', 'ARRAY')`,
    );
    for (const needle of [address(learner), learner]) {
      for (const c of columns) {
        const [hit] = await app.sql(`select count(*)::int as n from "${c.table_name}" where "${c.column_name}"::text like $1`, [`%${needle}%`]);
        if (hit.n > 0 && needle === learner) {
          // "learner-1" is a prefix of "learner-10": only an exact external id counts.
          const [exact] = await app.sql(`select count(*)::int as n from "${c.table_name}" where "${c.column_name}"::text ~ $1`, [`(^|[^-0-9a-z])${learner}($|[^0-9])`]);
          expect({ column: `${c.table_name}.${c.column_name}`, n: exact.n }).toEqual({ column: `${c.table_name}.${c.column_name}`, n: 0 });
        } else {
          expect({ column: `${c.table_name}.${c.column_name}`, n: hit.n }).toEqual({ column: `${c.table_name}.${c.column_name}`, n: 0 });
        }
      }
    }
    const after = (await app.ok(a.token, REPORT, { id: journey })).journeyReport.treated;
    expect(after).toMatchObject({ eligible: before.eligible, sent: before.sent, converted: before.converted, revenue: before.revenue });
    expect((await app.ok(a.token, `query($id: ID!) { learner(id: $id) { externalId contact { email } } }`, { id })).learner).toMatchObject({ contact: null });
  });

  it('forgets learners while their feedback is ingested and read, without an error and without demands read from words it erased', async () => {
    const learners = Array.from({ length: 12 }, (_, i) => `race-${i}`);
    const feedback = (learner: string, n: number) => ({
      type: 'FEEDBACK', idempotencyKey: `${learner}-fb-${n}`, learnerExternalId: learner, occurredAt: new Date().toISOString(),
      text: `I would like an advanced python course in the evenings, ${learner} (${n})`,
    });
    const ids = new Map<string, string>();
    for (const learner of learners) {
      await app.ok(a.token, RECORD, { e: [feedback(learner, 0)] });
      ids.set(learner, (await app.ok(a.token, `query($x: String) { learner(externalId: $x) { id } }`, { x: learner })).learner.id);
    }
    const results = await Promise.all(
      learners.flatMap((learner) => [
        app.gql(a.token, RECORD, { e: [feedback(learner, 1)] }),
        app.gql(a.token, `mutation($l: ID!) { forgetLearner(learnerId: $l) { learnerId } }`, { l: ids.get(learner) }),
        app.gql(a.token, RECORD, { e: [feedback(learner, 2)] }),
      ]),
    );
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    // Every extraction done: then no demand is left of a text that was erased, and the forgotten have none.
    await waitFor('the extractions', async () => (await app.sql(`select count(*)::int as n from jobs where kind = 'demands.extract' and state in ('PENDING', 'RUNNING')`))[0].n === 0);
    const orphans = await app.sql(`select d.event_id from learner_demands d join events e on e.id = d.event_id where e.text = ''`);
    expect(orphans).toEqual([]);
    const forgotten = await app.sql(`select count(*)::int as n from learner_demands where learner_id = any($1::uuid[])`, [[...ids.values()]]);
    expect(forgotten[0].n).toBe(0);
  });
});

describe('the outbox, with no SMTP server', () => {
  let app: TestApp;
  let brand: TestBrand;

  beforeAll(async () => {
    app = await TestApp.start({ ALLIED_TRACKING_SECRET: SECRET, ALLIED_JOURNEY_TICK_SECONDS: '1' });
    brand = await app.brand('Outbox Brand');
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('keeps each message as it would have been sent, for the brand\'s editors only', async () => {
    await app.ok(brand.token, SETTINGS, { i: { quietStartHour: 0, quietEndHour: 0 } });
    const campaign = (
      await app.ok(brand.token, `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`, {
        i: { name: 'Outbox', kind: 'EMAIL', startsAt: new Date(Date.now() - HOUR).toISOString(), budget: { amountMinor: 1, currency: 'USD' } },
      })
    ).createCampaign.id;
    await app.ok(brand.token, `mutation($id: ID!) { setCampaignStatus(id: $id, status: ACTIVE) { status } }`, { id: campaign });
    await app.ok(brand.token, RECORD, { e: [{ type: 'VIEW', idempotencyKey: 'o1', learnerExternalId: 'reader', occurredAt: new Date().toISOString(), contact: { email: 'reader@learners.example', consent: 'OPTED_IN' } }] });
    const template = (await app.ok(brand.token, SAVE, { i: { name: 'T', subject: 'Hello from the outbox', mjml: MJML, text: 'Hello' } })).saveEmailTemplate.id;
    await app.ok(brand.token, CREATE_JOURNEY, { i: { campaignId: campaign, name: 'J', trigger: { kind: 'STAGE_ENTERED', stage: 'PROSPECT' }, steps: [{ kind: 'SEND', templateId: template }], holdoutPercent: 0 } });
    const list = await waitFor('the outbox', async () => {
      const res = await app.http.get('/outbox').set('authorization', `Bearer ${brand.token}`);
      return res.status === 200 && res.body.messages.length === 1 && res.body.messages;
    });
    expect(list[0]).toMatchObject({ recipient: 'reader@learners.example', subject: 'Hello from the outbox' });
    const one = await app.http.get(`/outbox?message=${list[0].messageId}`).set('authorization', `Bearer ${brand.token}`);
    expect(one.body.messages[0].raw).toMatch(/List-Unsubscribe-Post: List-Unsubscribe=One-Click/);
    expect((await app.http.get('/outbox').set('authorization', `Bearer ${app.token(brand.id, [Role.ANALYST])}`)).status).toBe(403);
    expect((await app.http.get('/outbox')).status).toBe(401);
    const other = await app.brand('Other Outbox');
    expect((await app.http.get('/outbox').set('authorization', `Bearer ${other.token}`)).body.messages).toEqual([]);
  });
});
