/**
 * The dashboard's order links lead to the order's page in the real Temporal Web UI (the dev
 * server of this file, UI 2.x, with the order search attributes registered). Two orders rest at
 * the paper exchange, each a real order workflow on a worker running the production activities
 * over PGlite and an in-process paper exchange, each tagged with its market. Headless Chromium
 * opens the dashboard, clicks one order's link, and must land on that workflow's page; then it
 * opens the Web UI's workflow list filtered by market (`TradingMarket="<market>"`), which must
 * list that order and not the other market's. The list is saved as a screenshot under
 * data/screenshots/ (ignored by git) and its path printed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createActivities } from '../../activities/index';
import { listOpenOrders, openDatabase, type Database } from '../../db';
import { PROJECT_ROOT } from '../../db/client';
import { startDashboard, type RunningDashboard } from '../../dashboard/server';
import { makeClientOrderId, orderWorkflowId } from '../../domain/ids';
import type { Price, Quantity } from '../../domain/money';
import { cancelOrderSignal, orderStatusQuery } from '../../workflows/api';
import type { orderWorkflow } from '../../workflows';
import { makeDeps, startTestExchange, TEST_LIMITS, type TestExchange } from '../../testkit/activities-harness';
import { describeWhere } from '../support/requirements';
import { testOrderInput } from '../support/server-sessions';
import { describeOnServer, eventually, temporalServerForFile, withTimeout, type TestServer } from '../support/temporal-server';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(PROJECT_ROOT, 'data', 'screenshots', 'web-ui-orders-by-market.png');
const STRATEGY = 'webui';

const found = await temporalServerForFile(process.env, { ui: true });
const TITLE = 'dashboard order links in the Temporal Web UI';
const missing = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (apt-get install -y chromium)`
  : found.server !== null && found.server.webUiUrl === null
    ? `the server (${found.server.how}) has no Web UI this file knows of (set TEMPORAL_UI_URL beside TEMPORAL_ADDRESS)`
    : null;

if (missing !== null) {
  await found.server?.env.teardown();
  describeWhere(missing, TITLE, () => {
    it('needs Chromium and a Web UI', () => undefined);
  });
} else {
  describeOnServer(found, TITLE, suite);
}

function suite(server: TestServer): void {
  const day = new Date().toISOString().slice(0, 10);
  let database: Database;
  let exchange: TestExchange;
  let worker: { stop(): Promise<void> } | null = null;
  let dashboard: RunningDashboard;
  let browser: Browser;
  let page: Page;
  let webUi = '';
  const orders: { clientOrderId: string; marketId: string; handle: WorkflowHandle<typeof orderWorkflow> }[] = [];

  beforeAll(async () => {
    webUi = server.webUiUrl!;
    database = await openDatabase({ kind: 'pglite', dataDir: null });
    exchange = await startTestExchange();
    const taskQueue = server.unique('webui-tq');
    worker = await server.startWorker(createActivities(makeDeps({ db: database.db, venue: exchange.venue })), taskQueue);

    const markets = (await exchange.venue.listMarkets()).filter((m) => m.outcome === null && m.tickSize === 10_000).slice(0, 2);
    const tag = server.unique('w').replace(/[^a-z0-9]/g, '').slice(-6);
    for (const [i, m] of markets.entries()) {
      const quote = await exchange.venue.getMarketSnapshot(m.marketId);
      // A few ticks under the bid: inside the price-deviation limit, so the order passes risk and rests.
      const strategy = `${STRATEGY}${tag}`;
      const clientOrderId = makeClientOrderId(strategy, day, i + 1);
      const base = testOrderInput(clientOrderId, 2, 300_000, day);
      const input = {
        ...base,
        order: { clientOrderId, marketId: m.marketId, side: 'BUY' as const, quantity: 2 as Quantity, limitPrice: (quote.bid! - 30_000) as Price },
        context: { ...base.context, strategy },
        searchAttributes: true,
      };
      const handle = await server.client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(clientOrderId), args: [input] });
      orders.push({ clientOrderId, marketId: m.marketId, handle });
    }
    for (const o of orders) await eventually(() => o.handle.query(orderStatusQuery), (s) => s.state === 'SUBMITTED', `${o.clientOrderId} to rest at the venue`, 20_000);
    await eventually(() => listOpenOrders(database.db), (open) => orders.every((o) => open.some((r) => r.clientOrderId === o.clientOrderId)), 'the open orders in the records', 10_000);

    dashboard = await startDashboard({
      db: database.db,
      limits: TEST_LIMITS,
      temporal: null,
      token: null,
      temporalUiUrl: webUi,
      namespace: server.namespace,
      host: '127.0.0.1',
      port: 0,
      refreshMs: 60_000,
      quotes: null,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
      timeout: 30_000,
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    for (const o of orders) {
      await o.handle.signal(cancelOrderSignal, { operator: 'web-ui-test', reason: 'test finished' }).catch(() => undefined);
      await withTimeout(o.handle.result(), 20_000, `${o.clientOrderId} to end`).catch(() => o.handle.terminate('test finished').catch(() => undefined));
    }
    await worker?.stop();
    await exchange?.close();
    await database?.close();
  }, 60_000);

  it("following an order's link on the dashboard lands on that workflow's page in the Web UI", async () => {
    const [order] = orders;
    const workflowId = orderWorkflowId(order!.clientOrderId);
    const { runId } = await order!.handle.describe();
    await page.goto(dashboard.url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('body[data-loaded]', { timeout: 15_000 });
    const link = page.locator(`#orders-table tr[data-order="${order!.clientOrderId}"] a`).first();
    expect(await link.getAttribute('href')).toBe(`${webUi}/namespaces/${server.namespace}/workflows/${workflowId}`);

    // The link may open in a tab of its own (target=_blank) or in place: follow whichever it does.
    const opened = page.context().waitForEvent('page', { timeout: 5_000 }).catch(() => null);
    await link.click();
    const ui = (await opened) ?? page;
    // The Web UI resolves the workflow's latest run and shows its history.
    await ui.waitForURL((u) => u.pathname.startsWith(`/namespaces/${server.namespace}/workflows/${workflowId}/${runId}`), { timeout: 30_000 });
    const landed = new URL(ui.url());
    expect(`${landed.protocol}//${landed.host}`).toBe(webUi);
    expect(landed.pathname).toMatch(new RegExp(`^/namespaces/${server.namespace}/workflows/${workflowId}/${runId}(/history)?$`));
    await ui.getByText(workflowId, { exact: true }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await ui.getByText(runId, { exact: true }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await ui.getByText('orderWorkflow', { exact: true }).first().waitFor({ state: 'visible', timeout: 10_000 });
    if (ui !== page) await ui.close();
  }, 60_000);

  it("the Web UI's workflow list filtered by market lists that market's order and not the other's", async () => {
    const [mine, other] = orders;
    const query = `TradingMarket="${mine!.marketId}"`;
    // Visibility is eventually consistent: the same query through the API first.
    await eventually(
      async () => {
        const ids: string[] = [];
        for await (const w of server.client.workflow.list({ query })) ids.push(w.workflowId);
        return ids;
      },
      (ids) => ids.includes(orderWorkflowId(mine!.clientOrderId)),
      'the visibility API to list the order by market',
    );
    await page.goto(`${webUi}/namespaces/${server.namespace}/workflows?query=${encodeURIComponent(query)}`, { timeout: 30_000 });
    await page.getByText(orderWorkflowId(mine!.clientOrderId), { exact: true }).first().waitFor({ state: 'visible', timeout: 30_000 });
    // The list has rendered (the order above is in it): the other market's order is not.
    expect(await page.getByText(orderWorkflowId(other!.clientOrderId), { exact: true }).count()).toBe(0);
    // The control: without the filter the Web UI lists both.
    await page.goto(`${webUi}/namespaces/${server.namespace}/workflows?query=${encodeURIComponent(`WorkflowType="orderWorkflow"`)}`, { timeout: 30_000 });
    await page.getByText(orderWorkflowId(other!.clientOrderId), { exact: true }).first().waitFor({ state: 'visible', timeout: 30_000 });

    await page.goto(`${webUi}/namespaces/${server.namespace}/workflows?query=${encodeURIComponent(query)}`, { timeout: 30_000 });
    await page.getByText(orderWorkflowId(mine!.clientOrderId), { exact: true }).first().waitFor({ state: 'visible', timeout: 30_000 });
    mkdirSync(join(PROJECT_ROOT, 'data', 'screenshots'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`Temporal Web UI, orders filtered by market: ${SCREENSHOT}`);
    expect(existsSync(SCREENSHOT)).toBe(true);
  }, 60_000);
}
