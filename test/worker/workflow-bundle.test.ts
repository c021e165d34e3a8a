/**
 * The prebuilt workflow bundle (npm run build:workflows): it builds with its source map, a worker
 * uses it only while it is newer than every source it was built from (else it bundles at start,
 * and says which), and a worker created from it runs an order workflow on a Temporal server.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../runtime/config';
import { createWorker } from '../../worker/worker';
import { prebuiltWorkflowBundle, WORKFLOWS_PATH, writeWorkflowBundle } from '../../worker/bundle';
import type { OrderStatus, OrderWorkflowInput } from '../../workflows/api';
import type { Price, Quantity } from '../../domain/money';
import type { orderWorkflow } from '../../workflows/order-workflow';
import { describeOnServer, temporalServerForFile } from '../support/temporal-server';
import { FakeWorld } from './fake-activities';

const dir = mkdtempSync(join(tmpdir(), 'workflow-bundle-'));
const codePath = join(dir, 'workflow-bundle.js');
let built: Awaited<ReturnType<typeof writeWorkflowBundle>>;

beforeAll(async () => {
  built = await writeWorkflowBundle(codePath);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the prebuilt workflow bundle', () => {
  it('is written with its source map, which lists the workflow sources', () => {
    expect(built).toMatchObject({ codePath, sourceMapPath: `${codePath}.map` });
    const code = readFileSync(codePath, 'utf8');
    expect(code).toContain('//# sourceMappingURL=data:application/json');
    const map = JSON.parse(readFileSync(`${codePath}.map`, 'utf8')) as { sources: string[] };
    expect(map.sources).toContain(join(WORKFLOWS_PATH, '..', 'order-workflow.ts'));
    expect(map.sources).toContain(join(WORKFLOWS_PATH, '..', 'session-workflow.ts'));
    expect(built.sources).toBe(map.sources.length);
  });

  it('is used while it is newer than its sources, and not once one of them is newer', () => {
    expect(prebuiltWorkflowBundle(codePath)).toEqual({ codePath });
    const old = new Date(statSync(join(WORKFLOWS_PATH, '..', 'order-workflow.ts')).mtimeMs - 60_000);
    utimesSync(codePath, old, old);
    const stale = prebuiltWorkflowBundle(codePath);
    expect(stale).toMatchObject({ stale: expect.stringContaining('changed after the prebuilt bundle was built') });
    expect(prebuiltWorkflowBundle(join(dir, 'none.js'))).toMatchObject({ stale: expect.stringContaining('no prebuilt bundle') });
    const now = new Date();
    utimesSync(codePath, now, now);
    expect(prebuiltWorkflowBundle(codePath)).toEqual({ codePath });
  });
});

const found = await temporalServerForFile();

describeOnServer(found, 'a worker created from the prebuilt bundle', (server) => {
  it('runs an order workflow to its end, and says it used the bundle', { timeout: 120_000 }, async () => {
    const taskQueue = server.unique('prebuilt');
    const base = buildConfig({});
    const config = { ...base, temporal: { ...base.temporal, namespace: server.env.namespace ?? 'default', taskQueue } };
    const logged: string[] = [];
    const world = new FakeWorld();
    const worker = await createWorker({
      config,
      activities: world.activities(),
      connection: server.env.nativeConnection,
      prebuiltBundlePath: codePath,
      shutdownGraceTime: '1 second',
      log: { info: (m) => logged.push(m), warn: (m) => logged.push(m) },
    });
    expect(logged).toEqual([`Worker: workflows from the prebuilt bundle ${codePath}`]);
    const clientOrderId = server.unique('bundle');
    const input: OrderWorkflowInput = {
      order: { clientOrderId, marketId: 'PRES-2028', side: 'BUY', quantity: 3 as Quantity, limitPrice: 430_000 as Price },
      context: { strategy: 'bundle', sessionWorkflowId: null, tradingDay: new Date().toISOString().slice(0, 10), signal: { price: 430_000 as Price, confidence: 1, at: Date.now(), metadata: {} } },
      ttlMs: 60_000,
      halted: null,
      ordersInLastMinute: 0,
      searchAttributes: false,
    };
    const result = await worker.runUntil(
      server.client.workflow.execute<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: `order-${clientOrderId}`, args: [input] }),
    );
    expect((result as OrderStatus).state).toBe('FILLED');
    expect(world.placements.get(clientOrderId)).toBe(1);
  });
});
