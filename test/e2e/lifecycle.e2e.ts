import { Role } from '../../src/tenancy/roles';
import { codes, TestApp, type TestBrand } from '../support/server';

/**
 * Lifecycle stages kept current from events: each learner's stage by its
 * purchases and the time since its first purchase and its last event, the
 * brand's thresholds, learners(stage:), and the counts in metrics.
 */

const RECORD = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected { index message } } }`;
const STAGES = `{ learners(first: 50) { edges { node { externalId lifecycleStage } } } }`;
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

describe('lifecycle stages', () => {
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  let course: string;

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Lifecycle Alpha');
    b = await app.brand('Lifecycle Beta');
    course = await app.course(a, { price: { amountMinor: 1000, currency: 'USD' } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  const purchase = (key: string, learner: string, days: number) => ({ type: 'PURCHASE', idempotencyKey: key, learnerExternalId: learner, courseId: course, amount: { amountMinor: 1000, currency: 'USD' }, occurredAt: ago(days) });
  const view = (key: string, learner: string, days: number) => ({ type: 'VIEW', idempotencyKey: key, learnerExternalId: learner, courseId: course, occurredAt: ago(days) });
  const stages = async (brand: TestBrand) =>
    Object.fromEntries((await app.ok(brand.token, STAGES)).learners.edges.map((e: any) => [e.node.externalId, e.node.lifecycleStage]));

  it('reads each learner\'s stage from its events and the clock', async () => {
    await app.ok(a.token, RECORD, {
      e: [
        view('p1', 'prospect', 5),
        view('n1', 'new-buyer', 12),
        purchase('n2', 'new-buyer', 10),
        purchase('a1', 'regular', 200),
        purchase('a2', 'regular', 40),
        view('a3', 'regular', 3),
        purchase('o1', 'one-time-engaged', 60),
        view('o2', 'one-time-engaged', 20),
        purchase('l1', 'lapsed-buyer', 300),
        view('l2', 'lapsed-browser', 120),
      ],
    });
    expect(await stages(a)).toEqual({
      prospect: 'PROSPECT',
      'new-buyer': 'NEW',
      regular: 'ACTIVE',
      'one-time-engaged': 'ACTIVE',
      'lapsed-buyer': 'LAPSED',
      'lapsed-browser': 'LAPSED',
    });
    // A late event recorded out of order moves a learner back in: its last seen time is the latest event's.
    await app.ok(a.token, RECORD, { e: [view('l3', 'lapsed-browser', 1)] });
    expect((await stages(a))['lapsed-browser']).toBe('PROSPECT');
    await app.ok(a.token, RECORD, { e: [view('l4', 'lapsed-browser', 400)] });
    expect((await stages(a))['lapsed-browser']).toBe('PROSPECT');
  });

  it('filters learners by stage and counts them in metrics; nothing of it reaches another brand', async () => {
    const only = await app.ok(a.token, `{ learners(first: 50, stage: ACTIVE) { totalCount edges { node { externalId } } } }`);
    expect(only.learners.edges.map((e: any) => e.node.externalId).sort()).toEqual(['one-time-engaged', 'regular']);
    expect(only.learners.totalCount).toBe(2);
    const metrics = await app.ok(a.token, `{ metrics { lifecycle { prospect new active lapsed } } }`);
    expect(metrics.metrics.lifecycle).toEqual({ prospect: 2, new: 1, active: 2, lapsed: 1 });
    const other = await app.ok(b.token, `{ metrics { lifecycle { prospect new active lapsed } } learners(stage: ACTIVE) { totalCount } }`);
    expect(other.metrics.lifecycle).toEqual({ prospect: 0, new: 0, active: 0, lapsed: 0 });
    expect(other.learners.totalCount).toBe(0);
    expect((await app.ok(a.token, `{ learner(externalId: "new-buyer") { lifecycleStage } }`)).learner.lifecycleStage).toBe('NEW');
  });

  it('takes the brand\'s thresholds at once, validates them, and lets only an ADMIN or OWNER set them', async () => {
    expect((await app.ok(a.token, `{ lifecycleSettings { newDays lapsedDays } }`)).lifecycleSettings).toEqual({ newDays: 30, lapsedDays: 90 });
    const set = `mutation($n: Int, $l: Int) { setLifecycleThresholds(newDays: $n, lapsedDays: $l) { newDays lapsedDays } }`;
    expect((await app.ok(a.token, set, { n: 7, l: 365 })).setLifecycleThresholds).toEqual({ newDays: 7, lapsedDays: 365 });
    expect(await stages(a)).toMatchObject({ 'new-buyer': 'ACTIVE', 'lapsed-buyer': 'ACTIVE', prospect: 'PROSPECT' });
    expect((await app.ok(a.token, set, { l: 250 })).setLifecycleThresholds).toEqual({ newDays: 7, lapsedDays: 250 });
    expect((await stages(a))['lapsed-buyer']).toBe('LAPSED');

    for (const bad of [{ n: 0 }, { l: 4000 }, { n: 300, l: 200 }]) expect(codes(await app.gql(a.token, set, bad))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await app.gql(app.token(a.id, [Role.ANALYST]), set, { n: 10 }))).toEqual(['FORBIDDEN']);
    // The other brand keeps the defaults.
    expect((await app.ok(b.token, `{ lifecycleSettings { newDays lapsedDays } }`)).lifecycleSettings).toEqual({ newDays: 30, lapsedDays: 90 });
  });
});
