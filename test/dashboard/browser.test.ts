/**
 * The dashboard in real headless Chromium (Debian's `chromium`, driven by playwright-core) over a
 * live paper session: the real session and order controllers with the real activities, an
 * in-process paper exchange and PGlite. The page must show the session's own positions and
 * orders, draw the P&L curve, refuse a halt without the token and send it with the token.
 * A screenshot is saved under data/screenshots/ (ignored by git) and its path printed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWhere } from '../support/requirements';
import { getOrder, listOpenOrders, listOperatorActions, listPositions, openDatabase, type Database } from '../../db';
import { PROJECT_ROOT } from '../../db/client';
import type { OperatorRequest } from '../../workflows/api';
import { formatDecimal, type Price } from '../../domain/money';
import { startDashboard, type RunningDashboard } from '../../dashboard/server';
import { startTestExchange, type TestExchange } from '../../testkit/activities-harness';
import { PAPER_SESSION_LIMITS, startPaperSession, type RunningPaperSession } from '../../testkit/paper-session';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-test-token-0123456789';
const UI = 'http://127.0.0.1:8233';
const SCREENSHOT = join(PROJECT_ROOT, 'data', 'screenshots', 'dashboard.png');
const haveChromium = existsSync(CHROMIUM);

if (!haveChromium) console.warn(`Skipping the dashboard browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const TITLE = haveChromium
  ? 'dashboard in headless Chromium over a live paper session'
  : `dashboard in headless Chromium: skipped, ${CHROMIUM} is missing (apt-get install -y chromium)`;

describeWhere(haveChromium ? null : `${CHROMIUM} is missing (apt-get install -y chromium)`, TITLE, () => {
  let database: Database;
  let exchange: TestExchange;
  let session: RunningPaperSession;
  let dashboard: RunningDashboard;
  let browser: Browser;
  let page: Page;
  const signals: { kind: 'halt' | 'resume' | 'kill'; workflowId: string; request: OperatorRequest }[] = [];
  const pageErrors: string[] = [];
  let marketA = '';
  let marketB = '';
  let restingId = '';
  let filledId = '';

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: null });
    exchange = await startTestExchange();
    const markets = (await exchange.venue.listMarkets()).filter((m) => m.outcome === null && m.tickSize === 10_000);
    marketA = markets[0]!.marketId;
    marketB = markets[1]!.marketId;
    session = startPaperSession({
      db: database.db,
      venue: exchange.venue,
      marketIds: [marketA, marketB],
      // The paper markets resolve within days: without this the strategy would exit in its blackout on every poll.
      strategyParams: { blackoutDays: 0 },
      durationMs: 120_000,
      orderTtlMs: 90_000,
    });

    const buyA = session.placeOrder({ marketId: marketA, side: 'BUY', quantity: 10, limitPrice: await exchange.crossingBuy(marketA) });
    const buyB = session.placeOrder({ marketId: marketB, side: 'BUY', quantity: 6, limitPrice: await exchange.crossingBuy(marketB) });
    filledId = buyA.clientOrderId;
    expect((await buyA.done).state).toBe('FILLED');
    expect((await buyB.done).state).toBe('FILLED');
    // A buy a few ticks under the bid: inside the price-deviation limit, so it rests at the venue.
    const quote = await exchange.venue.getMarketSnapshot(marketA);
    restingId = session.placeOrder({ marketId: marketA, side: 'BUY', quantity: 4, limitPrice: (quote.bid! - 30_000) as Price }).clientOrderId;
    await session.until('the resting order is open at the venue', async () => (await listOpenOrders(database.db)).some((o) => o.clientOrderId === restingId && o.state === 'SUBMITTED'));
    await session.until('the session marks the positions', async () => (await listPositions(database.db, { openOnly: true })).every((p) => p.markedAt !== null));

    dashboard = await startDashboard({
      db: database.db,
      limits: PAPER_SESSION_LIMITS,
      token: TOKEN,
      temporalUiUrl: UI,
      host: '127.0.0.1',
      port: 0,
      refreshMs: 1_000,
      quotes: async (ids) => Promise.all(ids.map((id) => exchange.venue.getMarketSnapshot(id))),
      cash: async () => (await exchange.venue.getBalance()).cash,
      temporal: {
        // Captures the call and delivers it to the running session, as a Temporal signal would.
        signalHalt: async (workflowId, request) => {
          signals.push({ kind: 'halt', workflowId, request });
          if (workflowId === session.sessionWorkflowId) session.halt(request);
        },
        signalResume: async (workflowId, request) => {
          signals.push({ kind: 'resume', workflowId, request });
          if (workflowId === session.sessionWorkflowId) session.resume(request);
        },
        signalKillSwitch: async (workflowId, request) => {
          signals.push({ kind: 'kill', workflowId, request });
        },
      },
    });

    // playwright-core gives each launch a fresh temporary profile of its own.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
      timeout: 30_000,
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      // The refused halts below are 401 and 403 answers, which Chromium logs as failed loads.
      if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) pageErrors.push(m.text());
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await session?.end();
    await exchange?.close();
    await database?.close();
  }, 60_000);

  async function load(): Promise<void> {
    await page.goto(dashboard.url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('body[data-loaded]', { timeout: 15_000 });
  }

  it('loads with the live session: positions, orders with Temporal links, fills, risk, freshness', async () => {
    await load();
    const [position] = await listPositions(database.db, { openOnly: true }).then((ps) => ps.filter((p) => p.marketId === marketA));
    const row = page.locator(`#positions-table tr[data-market="${marketA}"] td`);
    const cells = await row.allTextContents();
    expect(cells[0]).toBe(marketA);
    expect(cells[1]).toBe('10');
    expect(cells[2]).toBe(formatDecimal(position!.averageEntryPrice!, 2));
    expect(cells[3]).toMatch(/^0\.\d{2,6}$/);
    expect(await page.locator(`#positions-table tr[data-market="${marketB}"] td`).nth(1).textContent()).toBe('6');

    const order = page.locator(`#orders-table tr[data-order="${restingId}"]`);
    const orderCells = await order.locator('td').allTextContents();
    expect(orderCells[0]).toBe(restingId);
    expect(orderCells[7]).toBe('SUBMITTED');
    expect(await order.locator('a').getAttribute('href')).toBe(`${UI}/namespaces/default/workflows/order-${restingId}`);
    const stored = await getOrder(database.db, restingId);
    expect(orderCells[5]).toBe(formatDecimal(stored!.limitPrice!, 2));

    expect(await page.locator(`#fills-table a:text-is("${filledId}")`).count()).toBeGreaterThan(0);
    const fillCells = await page.locator('#fills-table tbody tr').first().locator('td').allTextContents();
    expect(fillCells[7]).toMatch(/^-?\d+\.\d{2,6}$/);

    const riskNames = await page.locator('#risk-bars .risk-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-limit')));
    expect(riskNames).toEqual(expect.arrayContaining(['maxDailyLoss', 'maxPortfolioExposure', 'maxPositionSize', 'maxOpenPositions', 'maxOrderSize', 'maxPositionPercent', 'maxTotalExposurePercent']));
    // The percent-of-equity limits, measured against the paper account's cash and the positions at their marks.
    expect(await page.locator('#risk-bars [data-limit="maxTotalExposurePercent"] .value').textContent()).toMatch(/^\d+\.\d{2,6} \/ \d+\.\d{2,6} \(\d+\.\d%\)$/);
    expect(await page.locator('#risk-bars [data-limit="maxOpenPositions"] .value').textContent()).toMatch(/^2 \/ 5 \(40\.0%\)$/);
    expect(await page.locator('#risk-bars [data-limit="maxPositionSize"] .value').textContent()).toMatch(/^10 \/ 100 \(10\.0%\)$/);

    expect(await page.locator(`#freshness-table tr[data-market="${marketA}"] .tag`).textContent()).toBe('FRESH');
    expect(await page.locator('#halt-state').textContent()).toContain('Trading allowed');
    expect(await page.locator('#sessions-table a').first().textContent()).toBe(session.sessionWorkflowId);
    expect(pageErrors).toEqual([]);
  });

  it('draws the cumulative P&L curve as an SVG path through every fill', async () => {
    await load();
    const path = page.locator('#pnl-chart svg path#pnl-path');
    const d = (await path.getAttribute('d'))!;
    const points = Number(await path.getAttribute('data-points'));
    expect(points).toBeGreaterThanOrEqual(3);
    const coordinates = d.match(/-?\d+(\.\d+)?/g)!.map(Number);
    expect(coordinates.length).toBeGreaterThanOrEqual(2 * points);
    expect(coordinates.every(Number.isFinite)).toBe(true);
    const box = await path.boundingBox();
    expect(box!.width).toBeGreaterThan(100);
    const current = await page.locator('#pnl-current').textContent();
    expect(current).toMatch(/^-?\d+\.\d{2,6}$/);
  });

  it('refuses a halt without the token or with a wrong one, and sends and journals it with the token', async () => {
    await load();
    await page.fill('#operator', 'ann');
    await page.fill('#reason', 'browser drill: venue behaving oddly');
    await page.click('#halt-button');
    await page.waitForSelector('#action-result[data-status="401"]');
    expect(await page.locator('#action-result').textContent()).toContain('Refused (401)');

    await page.fill('#token', 'not-the-token-at-all-000');
    await page.click('#halt-button');
    await page.waitForSelector('#action-result[data-status="403"]');
    expect(signals).toEqual([]);
    expect((await listOperatorActions(database.db, { action: 'HALT' })).length).toBe(0);

    await page.fill('#token', TOKEN);
    await page.click('#halt-button');
    await page.waitForSelector('#action-result[data-status="202"]');
    expect(await page.locator('#action-result').textContent()).toContain(session.sessionWorkflowId);
    expect(signals).toEqual([{ kind: 'halt', workflowId: session.sessionWorkflowId, request: { operator: 'ann', reason: 'browser drill: venue behaving oddly' } }]);
    const journal = await listOperatorActions(database.db, { action: 'HALT' });
    const fromDashboard = journal.filter((a) => a.workflowId.startsWith('dashboard-'));
    expect(fromDashboard).toHaveLength(1);
    expect(fromDashboard[0]).toMatchObject({ operator: 'ann', reason: 'browser drill: venue behaving oddly', details: { via: 'dashboard', signalled: session.sessionWorkflowId } });

    // The session takes the signal, records its MANUAL trip, and the page shows the halt with its reason.
    await session.until('the session records the halt', async () => (await listOperatorActions(database.db, { action: 'HALT' })).length === 2);
    // A locator wait, not waitForFunction: a string predicate is evaluated with eval, which the page's CSP refuses.
    await page.locator('#trading-state', { hasText: 'HALTED' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#trading-state').textContent()).toBe('HALTED');
    expect(await page.locator('#halt-state').textContent()).toContain('browser drill: venue behaving oddly');
    expect(await page.locator('#journal-table tr[data-action="HALT"]').count()).toBe(2);
    expect(pageErrors).toEqual([]);

    mkdirSync(join(PROJECT_ROOT, 'data', 'screenshots'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`dashboard screenshot: ${SCREENSHOT}`);
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});
