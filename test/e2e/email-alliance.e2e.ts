import { activeAlliance } from '../support/alliances';
import { sleep, waitFor } from '../support/jobs';
import { SmtpSink } from '../support/smtp';
import { TestApp, type TestBrand } from '../support/server';

/**
 * A joint EMAIL campaign: the owning brand mails only its own consenting
 * learners (learners never cross brands) while promoting its partner's
 * joint course, and the alliance's other members read the journey's
 * aggregate report, never its learners, messages, trigger or steps.
 */

const HOUR = 3_600_000;
const RECORD = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }`;
const PUBLISH = `mutation($id: ID!) { updateCourse(id: $id, input: { status: PUBLISHED }) { status } }`;
const SAVE = `mutation($i: SaveEmailTemplateInput!) { saveEmailTemplate(input: $i) { id } }`;
const CREATE_JOURNEY = `mutation($i: CreateJourneyInput!) { createJourney(input: $i) { id } }`;
const CAMPAIGN_JOURNEYS = `query($id: ID!) { campaign(id: $id) { id journeys { id name status report {
  treated { eligible sent delivered opened } holdout { eligible sent } uplift { rateControl rateTreatment } } } } }`;
const MJML = `<mjml><mj-body><mj-section><mj-column>
  <mj-text>Hello {{ learner.name }}</mj-text>
  {% for p in partner_courses %}<mj-text>With our partners: {{ p.title }} for {{ p.price }}</mj-text>{% endfor %}
</mj-column></mj-section></mj-body></mjml>`;

describe('joint email campaigns', () => {
  let app: TestApp;
  let smtp: SmtpSink;
  let lead: TestBrand;
  let partner: TestBrand;
  let outsider: TestBrand;
  let allianceId: string;

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    app = await TestApp.start({ SMTP_URL: smtp.url, ALLIED_TRACKING_SECRET: 'alliance-email-secret-0123456789abcdefgh', ALLIED_JOURNEY_TICK_SECONDS: '1' });
    lead = await app.brand('Joint Lead');
    partner = await app.brand('Joint Partner');
    outsider = await app.brand('Joint Outsider');
    ({ allianceId } = await activeAlliance(app, lead, [partner], [[lead, 6000], [partner, 4000]]));
    await app.ok(lead.token, `mutation { setEmailSettings(input: { quietStartHour: 0, quietEndHour: 0 }) { perMinute } }`);
  });
  afterAll(async () => {
    await app?.stop();
    await smtp?.close();
  });

  const learnerEvents = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      type: 'VIEW', idempotencyKey: `${prefix}-${i}`, learnerExternalId: `${prefix}-${i}`, occurredAt: new Date(Date.now() - 60_000).toISOString(),
      contact: { email: `${prefix}-${i}@learners.example`, name: `${prefix} ${i}`, consent: 'OPTED_IN' },
    }));

  async function campaign(brand: TestBrand, extra: Record<string, unknown>): Promise<string> {
    const id = (
      await app.ok(brand.token, `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`, {
        i: { name: 'Joint newsletter', kind: 'EMAIL', startsAt: new Date(Date.now() - HOUR).toISOString(), budget: { amountMinor: 1000, currency: 'USD' }, ...extra },
      })
    ).createCampaign.id;
    await app.ok(brand.token, `mutation($id: ID!) { setCampaignStatus(id: $id, status: ACTIVE) { status } }`, { id });
    return id;
  }

  it("mails only the owner's consenting learners, promotes the partner's joint course, and shows partners aggregates only", async () => {
    const joint = await app.course(partner, { title: 'Partner Joint Yoga', allianceId, price: { amountMinor: 2500, currency: 'USD' } });
    await app.ok(partner.token, PUBLISH, { id: joint });
    // The partner's own consenting learners: a journey of the lead never reaches them.
    expect((await app.ok(partner.token, RECORD, { e: learnerEvents('partner', 3) })).recordEvents.accepted).toBe(3);
    expect((await app.ok(lead.token, RECORD, { e: learnerEvents('lead', 5) })).recordEvents.accepted).toBe(5);

    const jointCampaign = await campaign(lead, { allianceId });
    const template = (await app.ok(lead.token, SAVE, { i: { name: 'Joint', subject: 'From the alliance', mjml: MJML, text: 'Hello', recommendCount: 0 } })).saveEmailTemplate.id;
    const journey = (
      await app.ok(lead.token, CREATE_JOURNEY, {
        i: { campaignId: jointCampaign, name: 'Joint welcome', trigger: { kind: 'STAGE_ENTERED', stage: 'PROSPECT' }, steps: [{ kind: 'SEND', templateId: template }], holdoutPercent: 0 },
      })
    ).createJourney.id;
    await waitFor('the lead learners to receive the message', async () => smtp.received.length >= 5, 30_000);
    await sleep(1500);
    expect(smtp.received.map((r) => r.to[0]).sort()).toEqual(Array.from({ length: 5 }, (_, i) => `lead-${i}@learners.example`));
    for (const mail of smtp.received) expect(mail.mail.html).toContain('With our partners: Partner Joint Yoga for 25.00 USD');

    // The partner sees the journey's name, state and figures, and nothing it is made of.
    const seen = (await app.ok(partner.token, CAMPAIGN_JOURNEYS, { id: jointCampaign })).campaign;
    expect(seen.journeys).toHaveLength(1);
    expect(seen.journeys[0]).toMatchObject({ id: journey, name: 'Joint welcome', status: 'ACTIVE' });
    expect(seen.journeys[0].report.treated).toEqual({ eligible: 5, sent: 5, delivered: 5, opened: 0 });
    expect(seen.journeys[0].report.holdout).toEqual({ eligible: 0, sent: 0 });
    const owner = (await app.ok(lead.token, CAMPAIGN_JOURNEYS, { id: jointCampaign })).campaign;
    expect(owner.journeys).toEqual(seen.journeys);
    const direct = await app.ok(partner.token, `query($j: ID!) { journey(id: $j) { id steps { kind } } journeyReport(journeyId: $j) { treated { sent } } }`, { j: journey });
    expect(direct).toEqual({ journey: null, journeyReport: { treated: { sent: 5 } } });
    const rows = await app.asBrand(partner.id, (m) =>
      m.query(`select (select count(*)::int from email_messages) as messages, (select count(*)::int from journey_enrollments) as enrollments, (select count(*)::int from learner_contacts) as contacts`),
    );
    expect(rows[0]).toEqual({ messages: 0, enrollments: 0, contacts: 3 });

    // Outside the alliance, nothing; and a journey on the lead's own campaign stays the lead's.
    expect((await app.ok(outsider.token, CAMPAIGN_JOURNEYS, { id: jointCampaign })).campaign).toBeNull();
    expect((await app.ok(outsider.token, `query($j: ID!) { journeyReport(journeyId: $j) { method } }`, { j: journey })).journeyReport).toBeNull();
    const own = await campaign(lead, {});
    const later = (
      await app.ok(lead.token, CREATE_JOURNEY, {
        i: { campaignId: own, name: 'Own, later', trigger: { kind: 'SCHEDULED', at: new Date(Date.now() + 30 * 24 * HOUR).toISOString() }, steps: [{ kind: 'SEND', templateId: template }] },
      })
    ).createJourney.id;
    expect((await app.ok(partner.token, `query($j: ID!) { journeyReport(journeyId: $j) { method } }`, { j: later })).journeyReport).toBeNull();
    // Before anyone enters, its owner reads zeros, not nothing.
    const empty = (await app.ok(lead.token, `query($j: ID!) { journeyReport(journeyId: $j) { treated { eligible sent } holdout { eligible } } }`, { j: later })).journeyReport;
    expect(empty).toEqual({ treated: { eligible: 0, sent: 0 }, holdout: { eligible: 0 } });
    expect((await app.ok(partner.token, CAMPAIGN_JOURNEYS, { id: own })).campaign).toBeNull();
    expect((await app.ok(lead.token, CAMPAIGN_JOURNEYS, { id: own })).campaign.journeys.map((j: { id: string }) => j.id)).toEqual([later]);
  });
});
