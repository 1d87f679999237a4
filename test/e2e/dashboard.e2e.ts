import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { activeAlliance } from '../support/alliances';
import { TestApp, type TestBrand } from '../support/server';
import { RECORD, runSettlement } from '../support/settlements';

/**
 * The live dashboard in headless Chromium (Debian's, driven by
 * playwright-core; .ci/run installs both): sign in with a token, watch the
 * plotted values change as events are ingested, see the latest settlement.
 * Without a browser the suite is skipped, unless ALLIED_REQUIRE_BROWSER=1 (CI).
 */
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && fs.existsSync(p));
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');
if (!CHROMIUM && process.env.ALLIED_REQUIRE_BROWSER === '1') throw new Error('ALLIED_REQUIRE_BROWSER=1 but no Chromium was found');
const describeWithBrowser = CHROMIUM ? describe : describe.skip;

describeWithBrowser('live dashboard in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let a: TestBrand;
  let b: TestBrand;
  let course: string;
  let joint: string;
  let allianceId: string;
  let seq = 0;
  const recent = () => new Date(Date.now() - 60_000).toISOString();
  const text = (metric: string) => page.locator(`output[data-value="${metric}"]`).textContent();
  /** Polls the element's text (the page's CSP forbids evaluating strings, rightly). */
  const waitForText = async (selector: string, test: (text: string) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = (await page.locator(selector).textContent()) ?? '';
      if (test(last)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${selector} never matched; last text: "${last}"`);
  };

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Dashboard Academy');
    b = await app.brand('Dashboard Club', 'SPORTS_ORGANIZATION');
    course = await app.course(a, { title: 'Watched course' });
    ({ allianceId } = await activeAlliance(app, a, [b], [[a, 6000], [b, 4000]], '2026-01-01T00:00:00Z'));
    joint = await app.course(a, { title: 'Joint watched course', allianceId });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('signs in with a token and plots the numbers as events land', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e: Error) => errors.push(String(e)));
    const res = await page.goto(app.server.url.replace(/\/graphql$/, '/dashboard'));
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("default-src 'self'");
    await page.fill('#token', a.token);
    await page.click('#signin button');
    await waitForText('output[data-value="conversions"]', (t) => t === '0');
    expect(await text('revenue')).toBe('0');

    await app.ok(a.token, RECORD, {
      events: [
        ...Array.from({ length: 8 }, () => ({ idempotencyKey: `d-${++seq}`, type: 'IMPRESSION', learnerExternalId: 'l1', occurredAt: recent() })),
        ...Array.from({ length: 2 }, () => ({ idempotencyKey: `d-${++seq}`, type: 'CLICK', learnerExternalId: 'l1', occurredAt: recent() })),
        { idempotencyKey: `d-${++seq}`, type: 'PURCHASE', learnerExternalId: 'l1', occurredAt: recent(), courseId: course, amount: { amountMinor: 4999, currency: 'USD' } },
        { idempotencyKey: `d-${++seq}`, type: 'RATING', learnerExternalId: 'l1', occurredAt: recent(), courseId: course, rating: 5 },
      ],
    });
    await waitForText('output[data-value="revenue"]', (t) => t === '49.99 USD');
    expect(await text('ctr')).toBe('25.00% (2/8)');
    expect(await text('satisfaction')).toBe('100.0% (1 ratings)');
    expect(Number(await page.locator('.chart[data-metric="revenue"] svg').getAttribute('data-points'))).toBeGreaterThanOrEqual(2);

    await app.ok(a.token, RECORD, {
      events: [{ idempotencyKey: `d-${++seq}`, type: 'PURCHASE', learnerExternalId: 'l2', occurredAt: recent(), courseId: course, amount: { amountMinor: 1001, currency: 'USD' } }],
    });
    await waitForText('output[data-value="revenue"]', (t) => t === '60.00 USD');
    expect(Number(await page.locator('.chart[data-metric="revenue"] svg').getAttribute('data-points'))).toBeGreaterThanOrEqual(3);
    expect(await page.locator('.chart[data-metric="revenue"] polyline').count()).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-brand.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 60_000);

  it("switches to an alliance and shows its latest settlement as it is run", async () => {
    await page.selectOption('#scope', allianceId);
    await waitForText('#settlement-summary', (t) => t === 'No settlement yet.');
    await app.ok(b.token, RECORD, {
      events: [{ idempotencyKey: `d-${++seq}`, type: 'PURCHASE', learnerExternalId: 'fan', occurredAt: '2026-03-05T00:00:00Z', courseId: joint, amount: { amountMinor: 12345, currency: 'USD' } }],
    });
    await runSettlement(app, b, allianceId, 'USD', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z');
    await waitForText('#settlement-summary', (t) => /net 123\.45 USD/.test(t));
    const rows = await page.locator('#settlement-lines tbody tr').allTextContents();
    expect(rows.map((r: string) => r.replace(/\s+/g, ' ').trim()).sort()).toEqual(['Dashboard Academy160.00%74.07 USD', 'Dashboard Club140.00%49.38 USD'].sort());
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-alliance.png'), fullPage: true });
  }, 60_000);
});
