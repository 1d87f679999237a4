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
 * fields they come from, the latest settlement, a phone's width, empty
 * states and sign-out. Values are read from the page's plotted-values
 * tables; screenshots are kept in test-artifacts/.
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

  it('fits a phone’s width, and forgets the credential on sign-out', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 375, height: 800 });
    await signIn(phone, a.token);
    await phone.selectOption('#scope', allianceId);
    await until(async () => (await phone.locator('#settlement-summary').textContent()) ?? '', (t) => t.includes('net 12,345.67 USD'), 'phone settlement');
    await until(() => phone.locator(`${chart('uplift')} canvas`).count(), (n) => n === 1, 'phone uplift chart');
    for (const selector of ['.kpi', '.chart', '#settlement-lines td.amount', 'header']) {
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
