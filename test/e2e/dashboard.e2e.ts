import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { activeAlliance } from '../support/alliances';
import { TestApp, type TestBrand } from '../support/server';
import { RECORD, runSettlement } from '../support/settlements';

/**
 * The live dashboard in headless Chromium (Debian's, driven by
 * playwright-core; .ci/run installs both), in a reader's time zone that is
 * not the server's: sign in with a token, see the window's history charted
 * at once (and again after a reload), watch totals and charts follow events
 * as they are ingested, one revenue line per currency, scales from zero,
 * the funnel, campaign spend and the alliance's uplift equal to the GraphQL
 * fields they come from, the latest settlement, a budget suggestion equal to
 * suggestBudget's, a phone's width, empty states and sign-out. Values are
 * read from the page's plotted-values and budget tables; screenshots are
 * kept in test-artifacts/.
 * Without a browser the suite is skipped, unless ALLIED_REQUIRE_BROWSER=1 (CI).
 */
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && fs.existsSync(p));
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');
if (!CHROMIUM && process.env.ALLIED_REQUIRE_BROWSER === '1') throw new Error('ALLIED_REQUIRE_BROWSER=1 but no Chromium was found');
const describeWithBrowser = CHROMIUM ? describe : describe.skip;

const CAMPAIGN = `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`;
const SPEND = `mutation($c: ID!, $a: MoneyInput!, $at: DateTime!) { recordCampaignSpend(campaignId: $c, amount: $a, occurredAt: $at) { id } }`;
const FUNNEL = `query($f: DateTime!, $t: DateTime!, $a: ID) { funnel(from: $f, to: $t, allianceId: $a) {
  current { stages { stage count } } previous { stages { stage count } } } }`;
const IMPACT = `query($a: ID!, $f: DateTime!, $t: DateTime!) { allianceImpact(allianceId: $a, from: $f, to: $t, bucket: HOUR) {
  memberIds points { uplift joint { satisfaction } members { satisfaction } } } }`;
const ZONE = 'Asia/Shanghai';
const HOUR = 3_600_000;

describeWithBrowser('live dashboard in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let a: TestBrand;
  let b: TestBrand;
  let course: string;
  let partnerCourse: string;
  let joint: string;
  let allianceId: string;
  let seq = 0;
  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
  const chart = (name: string) => `.chart[data-chart="${name}"]`;
  const text = (metric: string) => page.locator(`output[data-value="${metric}"]`).textContent();
  const attribute = (selector: string, name: string) => page.locator(selector).getAttribute(name);

  /** Polls until read() passes test (the page's CSP forbids evaluating strings, rightly). */
  async function until<T>(read: () => Promise<T>, test: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T = await read();
    while (!test(last)) {
      if (Date.now() > deadline) throw new Error(`${what} never matched; last: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 50));
      last = await read();
    }
    return last;
  }
  const waitForText = (selector: string, test: (text: string) => boolean) =>
    until(async () => (await page.locator(selector).textContent()) ?? '', test, selector);

  /** A chart's plotted-values table: its header and, per row, the cells' texts and raw numbers. */
  async function plotted(name: string, on: Page = page) {
    const header = await on.locator(`${chart(name)} details.data thead th`).allTextContents();
    const rows = on.locator(`${chart(name)} details.data tbody tr`);
    const out: { label: string; texts: string[]; raws: (number | null)[] }[] = [];
    for (let i = 0, n = await rows.count(); i < n; i++) {
      const row = rows.nth(i);
      const cells = row.locator('td');
      const raws: (number | null)[] = [];
      for (let j = 0, m = await cells.count(); j < m; j++) {
        const raw = await cells.nth(j).getAttribute('data-raw');
        raws.push(raw === '' || raw === null ? null : Number(raw));
      }
      out.push({ label: (await row.locator('th').textContent()) ?? '', texts: await cells.allTextContents(), raws });
    }
    return { header, rows: out };
  }
  /** The number of times the page has drawn its charts. */
  const drawn = async (on: Page = page) => Number((await on.locator('#board').getAttribute('data-drawn')) ?? 0);

  async function signIn(on: Page, token: string) {
    const res = await on.goto(app.server.url.replace(/\/graphql$/, '/dashboard'));
    expect(res?.status()).toBe(200);
    await on.fill('#token', token);
    await on.click('#signin button');
    await until(() => drawn(on), (n) => n >= 1, 'first drawing');
  }

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Dashboard Academy');
    b = await app.brand('Dashboard Club', 'SPORTS_ORGANIZATION');
    course = await app.course(a, { title: 'Watched course' });
    partnerCourse = await app.course(b, { title: 'Club course' });
    ({ allianceId } = await activeAlliance(app, a, [b], [[a, 6000], [b, 4000]], '2026-01-01T00:00:00Z'));
    joint = await app.course(a, { title: 'Joint watched course', allianceId });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    context = await browser.newContext({ timezoneId: ZONE, locale: 'en-US', viewport: { width: 1200, height: 900 } });
    page = await context.newPage();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('says what to do where there is nothing to chart yet', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e: Error) => errors.push(String(e)));
    const fresh = await app.brand('Dashboard Newcomer');
    const res = await page.goto(app.server.url.replace(/\/graphql$/, '/dashboard'));
    expect(res?.headers()['content-security-policy']).toContain("default-src 'self'");
    await signIn(page, fresh.token);
    await waitForText('output[data-value="conversions"]', (t) => t === '0');
    expect(await text('revenue')).toBe('0');
    expect(await page.locator(`${chart('revenue')} .empty`).textContent()).toMatch(/^No purchases in this window\. .*recordEvents or POST \/ingest/);
    expect(await page.locator(`${chart('ctr')} .empty`).textContent()).toMatch(/^No impressions in this window/);
    expect(await page.locator(`${chart('funnel')} .empty`).textContent()).toMatch(/^No learners in this window/);
    expect(await page.locator(`${chart('campaigns')} .empty`).textContent()).toBe('No campaigns in this scope yet. Create one with createCampaign.');
    expect(await page.locator(`${chart('uplift')} .empty`).textContent()).toMatch(/^Pick an alliance in Scope/);
    expect(await page.locator(`${chart('revenue')} .plot`).isHidden()).toBe(true);
    expect(errors).toEqual([]);
  }, 60_000);

  it('charts the window’s history at once, and again after a reload', async () => {
    // Three hours ago: 6 learners see an impression, 2 click, 1 buys for 27,213.00 USD and rates it 4 stars.
    const then = ago(3 * HOUR);
    await app.ok(a.token, RECORD, {
      events: [
        ...Array.from({ length: 6 }, (_, i) => ({ idempotencyKey: `d-${++seq}`, type: 'IMPRESSION', learnerExternalId: `l${i}`, occurredAt: then })),
        ...Array.from({ length: 2 }, (_, i) => ({ idempotencyKey: `d-${++seq}`, type: 'CLICK', learnerExternalId: `l${i}`, occurredAt: then })),
        { idempotencyKey: `d-${++seq}`, type: 'PURCHASE', learnerExternalId: 'l1', occurredAt: then, courseId: course, amount: { amountMinor: 2_721_300, currency: 'USD' } },
        { idempotencyKey: `d-${++seq}`, type: 'RATING', learnerExternalId: 'l1', occurredAt: then, courseId: course, rating: 4 },
      ],
    });
    const campaignId = (await app.ok(a.token, CAMPAIGN, { i: { name: 'Spring push', kind: 'AD_PLACEMENT', startsAt: ago(48 * HOUR), budget: { amountMinor: 500_000, currency: 'USD' } } }))
      .createCampaign.id;
    await app.ok(a.token, SPEND, { c: campaignId, a: { amountMinor: 150_000, currency: 'USD' }, at: ago(24 * HOUR) });

    for (let round = 0; round < 2; round++) {
      await signIn(page, a.token);
      await waitForText('output[data-value="revenue"]', (t) => t === '27,213.00 USD');
      const revenue = await plotted('revenue');
      expect(revenue.header).toEqual([`Time (${ZONE})`, 'USD']);
      expect(revenue.rows.length).toBeGreaterThanOrEqual(24);
      expect(revenue.rows.filter((r) => r.raws[0]! > 0).map((r) => r.texts[0])).toEqual(['27,213.00 USD']);
      expect(revenue.rows.find((r) => r.raws[0]! > 0)!.label).toMatch(/GMT\+8$/);
      expect(await attribute(chart('revenue'), 'data-y-min')).toBe('0');
      expect(await attribute(chart('revenue'), 'data-y-max')).toBe('50000');
      // The rate's scale starts at zero: 33.3% sits two thirds up a 0–50% axis, not at the top.
      const ctr = await plotted('ctr');
      expect(ctr.rows.filter((r) => r.raws[0] !== null).map((r) => r.texts[0])).toEqual(['33.33%']);
      expect([await attribute(chart('ctr'), 'data-y-min'), await attribute(chart('ctr'), 'data-y-max')]).toEqual(['0', '0.5']);
      expect((await plotted('satisfaction')).rows.filter((r) => r.raws[0] !== null).map((r) => r.texts[0])).toEqual(['75.00%']);
      expect(await attribute(chart('satisfaction'), 'data-y-max')).toBe('1');
      expect(await page.locator(`${chart('revenue')} canvas`).count()).toBe(1);
      expect(await page.locator(`${chart('revenue')} .u-legend`).textContent()).toContain('USD');
      expect(await page.locator('.kpi').first().locator('.label').textContent()).toBe('Revenue');
      expect(await page.locator('[data-detail="ctr"]').textContent()).toBe('2 clicks of 6 impressions');
      expect(await page.locator('#updated').textContent()).toMatch(new RegExp(`^Updated [A-Z][a-z]{2} \\d{1,2}, ${new Date().getFullYear()}, .* GMT\\+8; totals since`));
    }

    // The funnel and the campaigns are the fields they come from.
    const now = Date.now();
    const api = (await app.ok(a.token, FUNNEL, { f: new Date(now - 24 * HOUR).toISOString(), t: new Date(now).toISOString() })).funnel;
    const funnel = await plotted('funnel');
    expect(funnel.header).toEqual(['Stage', 'This window', 'Window before']);
    expect(funnel.rows.map((r) => [r.label, ...r.raws])).toEqual(
      api.current.stages.map((s: { count: number }, i: number) => [['Reach', 'Acquired', 'Activated', 'Converted', 'Retained'][i], s.count, api.previous.stages[i].count]),
    );
    expect(funnel.rows[0].raws[0]).toBe(6);
    expect((await plotted('campaigns')).rows.map((r) => [r.label, ...r.texts])).toEqual([['Spring push', '1,500.00 USD', '0']]);
    expect(await page.locator(`${chart('funnel')} [data-note="funnel"]`).textContent()).toMatch(/^Index unknown: .* · satisfaction 75\.0% \(1 rating\)$/);
  }, 90_000);

  it('follows events as they land: totals, charts and a second currency beside the first', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e: Error) => errors.push(String(e)));
    const before = await drawn();
    await app.ok(a.token, RECORD, {
      events: [{ idempotencyKey: `d-${++seq}`, type: 'PURCHASE', learnerExternalId: 'l2', occurredAt: ago(60_000), courseId: course, amount: { amountMinor: 9900, currency: 'CNY' } }],
    });
    await waitForText('output[data-value="revenue"]', (t) => t.includes('99.00 CNY') && t.includes('27,213.00 USD'));
    await until(() => attribute(chart('revenue'), 'data-series'), (s) => s === 'CNY|USD', 'two revenue series');
    expect(await drawn()).toBeGreaterThan(before);
    const revenue = await plotted('revenue');
    expect(revenue.header).toEqual([`Time (${ZONE})`, 'CNY', 'USD']);
    // Each currency keeps its own line: the USD line is not replaced by 99.
    expect(revenue.rows.filter((r) => r.raws[1]! > 0).map((r) => r.texts[1])).toEqual(['27,213.00 USD']);
    expect(revenue.rows.filter((r) => r.raws[0]! > 0).map((r) => r.texts[0])).toEqual(['99.00 CNY']);
    // Each currency on its own scale: 99 CNY is not flattened under 27,213 USD.
    const panels = page.locator(`${chart('revenue')} .plot`);
    expect(await panels.count()).toBe(2);
    expect([await panels.nth(0).getAttribute('data-y-max'), await panels.nth(1).getAttribute('data-y-max')]).toEqual(['100', '50000']);
    expect(await panels.nth(0).locator('.u-legend').textContent()).toContain('CNY');
    const conversions = await plotted('conversions');
    expect(conversions.rows.reduce((sum, r) => sum + r.raws[0]!, 0)).toBe(2);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-brand.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 60_000);

  it('charts an alliance’s uplift as allianceImpact gives it, and its latest settlement as it is run', async () => {
    const ratings: Record<string, unknown>[] = [];
    for (let h = 5; h >= 2; h--) {
      const at = ago(h * HOUR + 60_000);
      ratings.push(
        ...[5, 4, 4].map((rating, i) => ({ idempotencyKey: `d-${++seq}`, type: 'RATING', learnerExternalId: `own-${h}-${i}`, occurredAt: at, courseId: course, rating })),
        ...[3, 4, 5 - (h % 2)].map((rating, i) => ({ idempotencyKey: `d-${++seq}`, type: 'RATING', learnerExternalId: `joint-${h}-${i}`, occurredAt: at, courseId: joint, rating })),
      );
    }
    await app.ok(a.token, RECORD, { events: ratings });
    await app.ok(b.token, RECORD, {
      events: [3, 2, 1].flatMap((h) => [4, 3].map((rating, i) => ({ idempotencyKey: `d-${++seq}`, type: 'RATING', learnerExternalId: `club-${h}-${i}`, occurredAt: ago(h * HOUR + 60_000), courseId: partnerCourse, rating }))),
    });

    await page.selectOption('#scope', allianceId);
    await waitForText('#settlement-summary', (t) => t === 'No settlement yet. A member runs one with runSettlement once the period has ended.');
    const now = Date.now();
    const api = (await app.ok(a.token, IMPACT, { a: allianceId, f: new Date(now - 24 * HOUR).toISOString(), t: new Date(now).toISOString() })).allianceImpact;
    const uplift = await until(() => plotted('uplift'), (u) => u.rows.length > 0, 'uplift rows');
    // Members in brand id order, as allianceImpact gives them.
    const names: Record<string, string> = { [a.id]: 'Dashboard Academy (own)', [b.id]: 'Dashboard Club (own)' };
    expect(uplift.header).toEqual([`Time (${ZONE})`, ...api.memberIds.map((id: string) => names[id]), 'Joint offer', 'Uplift ρ']);
    const expected = api.points.map((p: { uplift: number | null; joint: { satisfaction: number | null }; members: { satisfaction: number | null }[] }) => [
      ...p.members.map((m) => m.satisfaction),
      p.joint.satisfaction,
      p.uplift,
    ]);
    expect(uplift.rows.map((r) => r.raws)).toEqual(expected);
    expect(uplift.rows.filter((r) => r.raws[3] !== null).length).toBeGreaterThan(0);
    expect(await page.locator(`${chart('uplift')} [data-note="uplift"]`).textContent()).toMatch(/^No fit: /);
    const range = [Number(await attribute(chart('uplift'), 'data-y2-min')), Number(await attribute(chart('uplift'), 'data-y2-max'))];
    expect(range[0]).toBe(-range[1]);

    await app.ok(b.token, RECORD, {
      events: [{ idempotencyKey: `d-${++seq}`, type: 'PURCHASE', learnerExternalId: 'fan', occurredAt: '2026-03-05T00:00:00Z', courseId: joint, amount: { amountMinor: 1_234_567, currency: 'USD' } }],
    });
    await runSettlement(app, b, allianceId, 'USD', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z');
    const summary = await waitForText('#settlement-summary', (t) => /net 12,345\.67 USD/.test(t));
    // The period's ends as instants in the reader's zone, not bare dates.
    expect(summary).toBe('Mar 1, 2026, 08:00 AM GMT+8 – Apr 1, 2026, 08:00 AM GMT+8 · DRAFT · net 12,345.67 USD · 1 event');
    const rows = await page.locator('#settlement-lines tbody tr').allTextContents();
    expect(rows.map((r: string) => r.replace(/\s+/g, ' ').trim()).sort()).toEqual(['Dashboard Academy160.00%7,407.40 USD', 'Dashboard Club140.00%4,938.27 USD'].sort());
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-alliance.png'), fullPage: true });
  }, 60_000);

  it('suggests a budget across the brand’s own campaigns in the scope, as suggestBudget gives it', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e: Error) => errors.push(String(e)));
    // Six weeks of spend and the conversions it brought, on two planted curves a·s^k; the weeks end three weeks ago.
    const monday = new Date(Date.now() - 8 * 7 * 24 * HOUR);
    monday.setUTCHours(0, 0, 0, 0);
    monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
    const week = (w: number, days: number) => new Date(monday.getTime() + (w * 7 + days) * 24 * HOUR).toISOString();
    const spends = [4000, 9000, 16_000, 25_000, 12_000, 20_000];
    const campaign = async (by: TestBrand, name: string, extra: Record<string, unknown> = {}) =>
      (await app.ok(by.token, CAMPAIGN, { i: { name, kind: 'AD_PLACEMENT', startsAt: week(0, 0), budget: { amountMinor: 1_000_000, currency: 'USD' }, ...extra } })).createCampaign.id as string;
    const planted: [string, number, number][] = [];
    for (const [name, scale, exponent, extra] of [
      ['Autumn search', 0.05, 0.5, {}],
      ['Autumn video', 0.2, 0.4, {}],
      ['Joint relay', 0.1, 0.45, { allianceId }],
    ] as const) planted.push([await campaign(a, name, extra), scale, exponent]);
    await campaign(b, 'Club sponsor', { allianceId });
    const purchases: Record<string, unknown>[] = [];
    for (const [id, scale, exponent] of planted) {
      for (const [w, spend] of spends.entries()) {
        await app.ok(a.token, SPEND, { c: id, a: { amountMinor: spend, currency: 'USD' }, at: week(w, 1) });
        for (let i = 0, n = Math.round(scale * spend ** exponent); i < n; i++) {
          purchases.push({ idempotencyKey: `d-${++seq}`, type: 'PURCHASE', learnerExternalId: `budget-${id}-${w}-${i}`, occurredAt: week(w, 2), courseId: course, campaignId: id, amount: { amountMinor: 2000, currency: 'USD' } });
        }
      }
    }
    await app.ok(a.token, RECORD, { events: purchases });

    const BUDGET = `query($c: [ID!]!, $t: MoneyInput!, $o: BudgetObjective, $w: Int) { suggestBudget(campaignIds: $c, total: $t, objective: $o, weeks: $w) {
      method expected warnings assumptions shares { campaignId amount { amountMinor } share expected expectedLow expectedHigh } } }`;
    /** The page's suggestion against the API's for the same campaigns, total, objective and weeks. */
    async function matchesApi(objective: string, weeks: number) {
      const checked = page.locator('#budget-campaigns input:checked');
      const ids = await Promise.all((await checked.all()).map((box) => box.inputValue()));
      const api = (await app.ok(a.token, BUDGET, { c: ids, t: { amountMinor: 100_000, currency: 'USD' }, o: objective, w: weeks })).suggestBudget;
      const rows = page.locator('#budget-shares tbody tr');
      await until(() => rows.count(), (n) => n === ids.length, 'budget rows');
      for (const [i, share] of api.shares.entries()) {
        const row = rows.nth(i);
        expect(await row.getAttribute('data-campaign')).toBe(share.campaignId);
        const raws = await Promise.all((await row.locator('td[data-raw]').all()).map(async (cell) => Number(await cell.getAttribute('data-raw'))));
        expect(raws).toEqual([share.amount.amountMinor, share.share, share.expected]);
        const interval = row.locator('td[data-low]');
        expect([Number(await interval.getAttribute('data-low')), Number(await interval.getAttribute('data-high'))]).toEqual([share.expectedLow, share.expectedHigh]);
      }
      expect(await page.locator('#budget-warnings li').allTextContents()).toEqual(api.warnings);
      expect(await page.locator('#budget-assumptions li').allTextContents()).toEqual(api.assumptions);
      return api;
    }

    await page.selectOption('#scope', '');
    const boxes = page.locator('#budget-campaigns label');
    await until(() => boxes.allTextContents(), (names) => names.length === 4, 'own campaigns');
    expect((await boxes.allTextContents()).sort()).toEqual(['Autumn search (draft)', 'Autumn video (draft)', 'Joint relay (draft)', 'Spring push (draft)']);
    expect(await page.inputValue('#budget-currency')).toBe('USD');

    // Every campaign picked: Spring push has a single week of spend, so the split falls back to measured returns, and says so.
    await page.fill('#budget-total', '1000');
    await page.click('#budget-form button[type="submit"]');
    await waitForText('#budget-summary', (t) => t.startsWith('1,000.00 USD over 4 weeks, split in proportion'));
    const fallback = await matchesApi('CONVERSIONS', 4);
    expect(fallback.method).toBe('PROPORTIONAL_TO_RETURN');
    expect(await page.locator('#budget-warnings li').first().textContent()).toMatch(/^Spring push: 1 week with spend/);

    // Without it, the fitted curves split the total for revenue over 8 weeks; the chart plots the same split.
    await page.locator('#budget-campaigns label', { hasText: 'Spring push' }).locator('input').uncheck();
    await page.selectOption('#budget-objective', 'REVENUE');
    await page.fill('#budget-weeks', '8');
    await page.click('#budget-form button[type="submit"]');
    const summary = await waitForText('#budget-summary', (t) => t.includes('fitted response curve'));
    const curves = await matchesApi('REVENUE', 8);
    expect(curves.method).toBe('RESPONSE_CURVES');
    expect(summary).toMatch(/^1,000\.00 USD over 8 weeks, split along each campaign’s fitted response curve \(diminishing returns\): expected [\d,]+\.\d{2} USD\.$/);
    const plottedSplit = await plotted('budget');
    expect(plottedSplit.header).toEqual(['Campaign', 'Suggested spend', 'Expected revenue']);
    expect(plottedSplit.rows.map((r) => r.raws[0])).toEqual(curves.shares.map((s: { amount: { amountMinor: number } }) => s.amount.amountMinor / 100));
    expect(plottedSplit.rows.map((r) => r.raws[0]!).reduce((x, y) => x + y, 0)).toBeCloseTo(1000, 6);
    await page.locator('#budget').screenshot({ path: path.join(ARTIFACTS, 'dashboard-budget.png') });

    await page.fill('#budget-total', '0');
    await page.click('#budget-form button[type="submit"]');
    await waitForText('#budget-summary', (t) => t === 'Type a total above zero, in USD.');
    expect(await page.locator('#budget-shares').isHidden()).toBe(true);

    // In the alliance: only this member's joint campaign; the partner's is the partner's to budget.
    await page.selectOption('#scope', allianceId);
    await waitForText('#budget-hint', (t) => t.includes('your campaigns in this alliance') && t.endsWith("Other members' campaigns (1) are theirs to budget."));
    expect(await boxes.allTextContents()).toEqual(['Joint relay (draft)']);
    await page.fill('#budget-total', '250.5');
    await page.click('#budget-form button[type="submit"]');
    // The objective and weeks typed before are kept across scopes.
    await waitForText('#budget-summary', (t) => t.startsWith('250.50 USD over 8 weeks'));
    const joint = (await app.ok(a.token, BUDGET, { c: [planted[2][0]], t: { amountMinor: 25_050, currency: 'USD' }, o: 'REVENUE', w: 8 })).suggestBudget;
    expect(await page.locator('#budget-shares tbody td[data-raw]').first().getAttribute('data-raw')).toBe('25050');
    expect(Number(await page.locator('#budget-shares tbody td[data-raw]').nth(2).getAttribute('data-raw'))).toBe(joint.shares[0].expected);
    expect(errors).toEqual([]);
  }, 90_000);

  it('fits a phone’s width, and forgets the credential on sign-out', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 375, height: 800 });
    await signIn(phone, a.token);
    await phone.selectOption('#scope', allianceId);
    await until(async () => (await phone.locator('#settlement-summary').textContent()) ?? '', (t) => t.includes('net 12,345.67 USD'), 'phone settlement');
    await until(() => phone.locator(`${chart('uplift')} canvas`).count(), (n) => n === 1, 'phone uplift chart');
    for (const selector of ['.kpi', '.chart:not([hidden])', '#budget', '#settlement-lines td.amount', 'header']) {
      for (const box of await Promise.all((await phone.locator(selector).all()).map((el) => el.boundingBox()))) {
        expect(box!.x + box!.width).toBeLessThanOrEqual(375);
      }
    }
    await phone.screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
    await phone.locator(chart('funnel')).screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone-funnel.png') });

    await phone.click('#signout');
    expect(await phone.locator('#board').isHidden()).toBe(true);
    expect(await phone.inputValue('#token')).toBe('');
    expect(await phone.locator('#status').textContent()).toBe('Signed out. The credential is forgotten.');
    expect(await phone.locator('#signin').isVisible()).toBe(true);
    await phone.close();
  }, 60_000);
});
