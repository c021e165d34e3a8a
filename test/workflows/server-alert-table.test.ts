/**
 * Halts that leave nothing unsafe, on a real Temporal server: the venue refusing our credentials
 * (an order's submit, the market watch) halts the whole session with one CRITICAL alert that
 * reaches a real SMTP server once; a halt can cancel the working orders; a venue connection outage
 * the watch reports is acted on by CONNECTION_LOST_POLICY. The other activities are in memory
 * (FakeWorld); alerts go through the production alert activity on PGlite to the SMTP capture.
 */
import { PGlite } from '@electric-sql/pglite';
import { ApplicationFailure } from '@temporalio/common';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAlertActivities } from '../../activities/alerts';
import type { ActivityDeps } from '../../activities/deps';
import type { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { ConnectionOutage, WatchResult } from '../../contracts/activities';
import { listAlerts, type Db } from '../../db';
import { migratePglite } from '../../db/migrate';
import { sessionWorkflowId } from '../../domain/ids';
import { testConfig } from '../../testkit/activities-harness';
import { haltSignal, sessionStatusQuery, type SessionStatus, type SessionWorkflowInput } from '../../workflows/api';
import type { sessionWorkflow } from '../../workflows';
import { captureMailer, startSmtpCapture, type SmtpCapture } from '../activities/smtp-capture';
import { terminateQuietly, testSessionInput } from '../support/server-sessions';
import { describeOnServer, eventually, temporalServerForFile, type TestServer } from '../support/temporal-server';
import { FakeWorld } from '../worker/fake-activities';

const found = await temporalServerForFile();

describeOnServer(found, 'halts that leave nothing unsafe, on a Temporal server', (server: TestServer) => {
  const client = server.client;
  const today = new Date().toISOString().slice(0, 10);
  const unique = server.unique;
  const operator = { operator: 'test-operator', reason: 'alert table suite' };
  let pglite: PGlite;
  let db: Db;
  let smtp: SmtpCapture;

  beforeAll(async () => {
    pglite = await PGlite.create();
    db = drizzlePglite({ client: pglite }) as unknown as Db;
    await pglite.exec('CREATE SCHEMA alerts_suite; SET search_path TO alerts_suite');
    await migratePglite(db, 'alerts_suite');
    smtp = await startSmtpCapture();
  });
  afterAll(async () => {
    await smtp?.close();
    await pglite?.close();
  });

  /** The production alert activity: records under the dedupe key, emails CRITICAL and HIGH through SMTP, 5-minute cooldown. */
  function realAlerts() {
    const deps: ActivityDeps = { db, venue: null as unknown as ResilientVenue, mailer: captureMailer(smtp.port), config: testConfig(), clock: () => Date.now() };
    return createAlertActivities(deps);
  }

  const mailsOfType = (type: string) => smtp.messages.filter((m) => m.text.includes(`Type: ${type}\n`));

  async function run(world: FakeWorld, strategy: string, over: Partial<SessionWorkflowInput>, acts: Record<string, unknown> = {}) {
    const taskQueue = unique('tq');
    const w = await server.startWorker({ ...world.activities(), raiseAlert: realAlerts().raiseAlert, ...acts }, taskQueue);
    const handle = await client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', {
      taskQueue,
      workflowId: sessionWorkflowId(strategy, today),
      args: [testSessionInput(strategy, today, over)],
    });
    const status = (): Promise<SessionStatus> => handle.query(sessionStatusQuery);
    return { w, handle, status };
  }

  it('an order refused for our credentials halts the whole session, with one CRITICAL alert by email', async () => {
    const world = new FakeWorld();
    const strategy = unique('auth');
    const submitOrder = async () => {
      throw ApplicationFailure.nonRetryable('HTTP 401: invalid API key', 'AUTH');
    };
    const { w, handle, status } = await run(world, strategy, {}, { submitOrder });
    try {
      await eventually(status, (s) => s.mode === 'TRADING', 'the session to trade');
      world.pushSignal(strategy);
      const halted = await eventually(status, (s) => s.mode === 'HALTED', 'the session to halt on the AUTH refusal');
      expect(halted.haltReason).toMatch(/AUTH/);
      await eventually(async () => mailsOfType('SESSION_HALTED_AUTH').length, (n) => n === 1, 'the CRITICAL email');
      expect(mailsOfType('SESSION_HALTED_AUTH')[0]!.subject).toMatch(/^\[Trading Alert - CRITICAL\] Session halted: the venue refused our credentials/);
      // A second signal while halted starts nothing and sends nothing more.
      world.pushSignal(strategy);
      await new Promise((r) => setTimeout(r, 2_000));
      expect((await status()).ordersStarted).toBe(1);
      expect(mailsOfType('SESSION_HALTED_AUTH')).toHaveLength(1);
    } finally {
      await terminateQuietly(handle);
      await w.stop();
    }
  });

  it('a market watch refused for our credentials halts the session instead of failing it', async () => {
    const world = new FakeWorld();
    const strategy = unique('wauth');
    let refusals = 0;
    const inner = world.activities().watchForSignal;
    const watchForSignal = async (input: Parameters<typeof inner>[0]): Promise<WatchResult> => {
      if (refusals++ === 0) throw ApplicationFailure.nonRetryable('HTTP 403: key revoked', 'AUTH');
      return inner(input);
    };
    const before = mailsOfType('SESSION_HALTED_AUTH').length;
    const { w, handle, status } = await run(world, strategy, {}, { watchForSignal });
    try {
      const halted = await eventually(status, (s) => s.mode === 'HALTED', 'the session to halt');
      expect(halted.trips.map((t) => t.operator)).toEqual(['venue-auth']);
      // The first scenario emailed a SESSION_HALTED_AUTH moments ago: this one is recorded, and the 5-minute cooldown keeps it out of the mailbox.
      const [row] = await eventually(
        async () => (await listAlerts(db, { type: 'SESSION_HALTED_AUTH' })).filter((r) => r.dedupeKey.includes(strategy)),
        (rows) => rows.length === 1 && rows[0]!.delivery !== 'PENDING',
        'the alert to be recorded',
      );
      expect(row!.level).toBe('CRITICAL');
      expect([row!.delivery, row!.deliveryError?.split(':')[0]]).toEqual(before === 0 ? ['SENT', undefined] : ['SUPPRESSED', 'COOLDOWN']);
      expect(mailsOfType('SESSION_HALTED_AUTH')).toHaveLength(Math.max(1, before));
      expect((await handle.describe()).status.name).toBe('RUNNING');
    } finally {
      await terminateQuietly(handle);
      await w.stop();
    }
  });

  it('halt --cancel-orders cancels the working orders; a plain halt leaves them working; a bad flag is refused', async () => {
    const world = new FakeWorld();
    const strategy = unique('hco');
    const { w, handle, status } = await run(world, strategy, {});
    try {
      await eventually(status, (s) => s.mode === 'TRADING', 'the session to trade');
      await handle.signal(haltSignal, { ...operator, cancelOrders: 'yes' as unknown as boolean });
      await eventually(status, (s) => s.refusedSignals.some((r) => r.includes('halt.cancelOrders')), 'the bad flag to be refused');
      expect((await status()).mode).toBe('TRADING');
      await handle.signal(haltSignal, operator);
      await eventually(status, (s) => s.mode === 'HALTED', 'the plain halt');
      await new Promise((r) => setTimeout(r, 1_500));
      expect(world.cancelAllCalls).toHaveLength(0);
      await handle.signal(haltSignal, { ...operator, cancelOrders: true });
      await eventually(async () => world.cancelAllCalls.length, (n) => n === 1, 'the working orders to be cancelled');
      expect(world.cancelAllCalls[0]!.reason).toMatch(/^halt: alert table suite/);
    } finally {
      await terminateQuietly(handle);
      await w.stop();
    }
  });

  for (const policy of ['cancel', 'keep'] as const) {
    it(`a connection outage the watch reports: CONNECTION_LOST_POLICY=${policy}`, async () => {
      const world = new FakeWorld();
      const strategy = unique(`cl${policy}`);
      const outage: ConnectionOutage = { since: Date.now() - 90_000, restoredAt: Date.now() - 1_000 };
      const inner = world.activities().watchForSignal;
      let watches = 0;
      // Every watch reports the same outage: the session acts on it once.
      const watchForSignal = async (input: Parameters<typeof inner>[0]): Promise<WatchResult> => {
        watches++;
        return { ...(await inner({ ...input, untilMs: Math.min(input.untilMs, Date.now() + 300) })), connectionOutage: outage };
      };
      const { w, handle, status } = await run(world, strategy, { connectionLostPolicy: policy, watchPeriodMs: 1_000 }, { watchForSignal });
      try {
        await eventually(async () => watches, (n) => n >= 4, 'several watches');
        expect(world.cancelAllCalls.map((c) => c.reason)).toEqual(policy === 'cancel' ? [expect.stringMatching(/connection was lost for 89 s.*CONNECTION_LOST_POLICY=cancel/)] : []);
        expect((await status()).mode).toBe('TRADING');
      } finally {
        await terminateQuietly(handle);
        await w.stop();
      }
    });
  }

  it('a session input with an unknown connection-lost policy is refused', async () => {
    const world = new FakeWorld();
    const strategy = unique('clbad');
    const { w, handle } = await run(world, strategy, { connectionLostPolicy: 'panic' as unknown as 'keep' });
    try {
      await expect(handle.result()).rejects.toThrow();
      const history = await handle.fetchHistory();
      const failed = history.events?.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes;
      expect(failed?.failure?.message).toBe('connectionLostPolicy: must be one of cancel, keep (got "panic")');
    } finally {
      await w.stop();
    }
  });

  it('the records hold each alert once', async () => {
    const rows = await listAlerts(db, {});
    const keys = rows.map((r) => r.dedupeKey);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
