/**
 * Control with an answer on a real Temporal server (runtime/desk-control.ts): two strategies'
 * sessions running, one named by yesterday's date (the session a halt near midnight must reach),
 * an order still in its risk check (not yet sent) and one working at the venue, all on in-memory
 * activities (FakeWorld). The operator CLI (in-process, as test/cli does) and the dashboard (its
 * HTTP server, in-process) act on them over the file's own PostgreSQL database. Each halt answers
 * per target, stops every session and the unsent order (the venue never sees it), and leaves one
 * journal row with its outcome; resume lifts the halts; a cancel of an order that has ended is
 * journaled as refused (exit 3); the kill switch narrowed to one strategy cancels its open orders
 * at the venue and leaves the other strategy trading; a bad update payload is refused by the validator and never enters
 * the session's history.
 *
 * Needs TEMPORAL_CLI_PATH (or TEMPORAL_ADDRESS) and TEST_DATABASE_URL.
 */
import postgres from 'postgres';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listOperatorActions, openDatabase, type Database } from '../../db';
import { run, type CliIo } from '../../cli/main';
import { startDashboard, type RunningDashboard } from '../../dashboard/server';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { makeClientOrderId, orderWorkflowId, sessionWorkflowId } from '../../domain/ids';
import { controlDesk, runningOrders, runningSessions, type DeskOutcome } from '../../runtime/desk-control';
import { haltSessionUpdate, orderStatusQuery, sessionStatusQuery, type OrderStatus, type SessionStatus } from '../../workflows/api';
import type { orderWorkflow, sessionWorkflow } from '../../workflows';
import { FakeWorld } from '../worker/fake-activities';
import { terminateQuietly, testOrderInput, testSessionInput } from '../support/server-sessions';
import { describeWhere } from '../support/requirements';
import { describeOnServer, eventually, temporalServerForFile, type TestServer } from '../support/temporal-server';
import { uniqueSchema } from '../db/harness';

const POSTGRES_URL = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || '';
const DAY_MS = 86_400_000;
const TOKEN = 'desk-control-token-0123456789';

const found = await temporalServerForFile();

describeWhere(POSTGRES_URL ? null : 'TEST_DATABASE_URL is not set (the CLI and the dashboard journal into PostgreSQL)', 'desk control', () => {
  describeOnServer(found, 'halt, resume and cancel with an answer, desk-wide', (server: TestServer) => {
    const client = server.client;
    const world = new FakeWorld();
    const taskQueue = server.unique('desk');
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
    const sessionA = sessionWorkflowId('deska', yesterday);
    const sessionB = sessionWorkflowId('deskb', today);
    const unsent = makeClientOrderId('deska', yesterday, 1);
    const working = makeClientOrderId('deskb', today, 1);
    const started: WorkflowHandle[] = [];
    let admin: postgres.Sql;
    let databaseName: string;
    let databaseUrl: string;
    let database: Database;
    let dashboard: RunningDashboard;
    let stopWorker: () => Promise<void>;

    async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      let stdout = '';
      let stderr = '';
      const io: CliIo = {
        stdout: (t) => void (stdout += t),
        stderr: (t) => void (stderr += t),
        env: { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace, SESSION_STRATEGY: 'deskb', TRADING_TIME_ZONE: 'UTC', OPERATOR: 'tester' },
        progressStream: null,
        now: () => Date.now(),
        connectTimeoutMs: 5_000,
      };
      const code = await run(argv, io);
      return { code, stdout, stderr };
    }

    const sessionStatus = (id: string): Promise<SessionStatus> => client.workflow.getHandle(id).query(sessionStatusQuery);
    const orderStatus = (coid: string): Promise<OrderStatus> => client.workflow.getHandle(orderWorkflowId(coid)).query(orderStatusQuery);
    const target = (o: DeskOutcome, workflowId: string) => o.targets.find((t) => t.workflowId === workflowId);

    beforeAll(async () => {
      admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
      databaseName = uniqueSchema('desk');
      await admin.unsafe(`CREATE DATABASE "${databaseName}"`);
      const url = new URL(POSTGRES_URL);
      url.pathname = `/${databaseName}`;
      databaseUrl = url.toString();
      database = await openDatabase({ kind: 'postgres', url: databaseUrl, poolSize: 2 });
      const w = await server.startWorker(world.activities(), taskQueue);
      stopWorker = w.stop;
      dashboard = await startDashboard({
        db: database.db,
        limits: CASE_STUDY_LIMITS,
        temporal: {
          signalHalt: () => Promise.reject(new Error('the dashboard must use the desk control')),
          signalResume: () => Promise.reject(new Error('the dashboard must use the desk control')),
          signalKillSwitch: () => Promise.reject(new Error('the dashboard must use the desk control')),
          control: (action, request, scope) => controlDesk(client, action, request, scope),
        },
        token: TOKEN,
        temporalUiUrl: 'http://127.0.0.1:8233',
        port: 0,
        log: () => undefined,
      });
    }, 60_000);

    afterAll(async () => {
      await Promise.all(started.map((h) => terminateQuietly(h)));
      await dashboard?.close();
      await stopWorker?.();
      await database?.close();
      await admin?.unsafe(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
      await admin?.end({ timeout: 5 });
    }, 60_000);

    async function dashboardAct(path: string, body: Record<string, unknown>): Promise<{ status: number; body: DeskOutcome & { journal: { workflowId: string } } }> {
      const res = await fetch(`${dashboard.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as DeskOutcome & { journal: { workflowId: string } } };
    }

    it('a halt from the CLI and one from the dashboard each answer, stop every session and the unsent order, journal once; resume lifts', async () => {
      // Two strategies: one session named by yesterday (still running past midnight), one by today.
      for (const [strategy, day, id] of [['deska', yesterday, sessionA], ['deskb', today, sessionB]] as const) {
        started.push(await client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', { taskQueue, workflowId: id, args: [testSessionInput(strategy, day)] }));
      }
      await eventually(() => Promise.all([sessionStatus(sessionA), sessionStatus(sessionB)]), (s) => s.every((x) => x.mode === 'TRADING'), 'both sessions trading');
      // One order working at the venue (never fills), one held in its risk check (not yet sent).
      world.fillPlan.set(working, []);
      // Under the risk check's 10-second timeout (activity-options.ts RISK_CHECK): the check answers, and the halt must already be there.
      world.riskDelayMs.set(unsent, 8_000);
      const orderInput = (coid: string, strategy: string, day: string) => {
        const base = testOrderInput(coid, 5, 600_000, day);
        return { ...base, context: { ...base.context, strategy } };
      };
      started.push(await client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(working), args: [orderInput(working, 'deskb', today)] }));
      await eventually(() => orderStatus(working), (s) => s.state === 'SUBMITTED', 'the working order at the venue');
      started.push(await client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(unsent), args: [orderInput(unsent, 'deska', yesterday)] }));
      await eventually(() => Promise.all([runningSessions(client), runningOrders(client)]), ([s, o]) => s.length === 2 && o.length === 2, 'every target listed by visibility', 10_000);

      // ---- the CLI halts the desk ----
      const t0 = Date.now();
      const halt = await cli(['halt', '--reason', 'desk halt from the CLI', '--operator', 'alice', '--json']);
      console.log(`the CLI halt answered in ${Date.now() - t0} ms`);
      expect(halt.stderr).toBe('');
      expect(halt.code).toBe(0);
      const answer = JSON.parse(halt.stdout) as DeskOutcome & { journalKey: string };
      expect(answer.outcome).toBe('APPLIED');
      expect(answer.scope).toBe('every strategy');
      expect(answer.journalKey).toMatch(/^cli:/);
      expect(target(answer, sessionA)).toMatchObject({ kind: 'session', outcome: 'APPLIED', sessionsHalted: 1, foundBy: 'visibility', journalKey: answer.journalKey });
      expect(target(answer, sessionB)).toMatchObject({ kind: 'session', outcome: 'APPLIED', sessionsHalted: 1 });
      expect(target(answer, orderWorkflowId(unsent))).toMatchObject({ kind: 'order', outcome: 'APPLIED', ordersNotSent: 1 });
      expect(target(answer, orderWorkflowId(working))).toMatchObject({ kind: 'order', outcome: 'APPLIED', ordersKeptWorking: 1, stateAfter: 'SUBMITTED' });
      expect(answer.totals).toMatchObject({ sessionsReached: 2, sessionsHalted: 2, ordersReached: 2, ordersNotSent: 1, ordersKeptWorking: 1, refused: 0, unreachable: 0 });
      for (const id of [sessionA, sessionB]) {
        const s = await sessionStatus(id);
        expect(s.mode).toBe('HALTED');
        expect(s.appliedControls?.map((c) => [c.journalKey, c.action, c.outcome])).toEqual([[answer.journalKey, 'HALT', 'APPLIED']]);
      }
      // The unsent order ends without reaching the venue.
      const ended = (await client.workflow.getHandle(orderWorkflowId(unsent)).result()) as OrderStatus;
      expect(ended.state).toBe('REJECTED');
      expect(ended.rejectReason).toMatch(/trading halted before the order was sent: desk halt from the CLI/);
      expect(world.placements.get(unsent)).toBeUndefined();
      expect(world.orderCalls.get(unsent) ?? []).not.toContain('submitOrder');

      // ---- resume through the CLI ----
      const resume = await cli(['resume', '--reason', 'all clear', '--operator', 'alice']);
      expect(resume.code).toBe(0);
      expect(resume.stdout).toMatch(/APPLIED: 2 sessions reached, 2 resumed/);
      expect(resume.stdout).toContain(sessionA);
      for (const id of [sessionA, sessionB]) expect((await sessionStatus(id)).mode).toBe('TRADING');

      // ---- the dashboard halts the desk ----
      const requestId = 'desk-dashboard-0001';
      const viaDashboard = await dashboardAct('/api/halt', { operator: 'bob', reason: 'desk halt from the dashboard', requestId });
      expect(viaDashboard.status).toBe(200);
      expect(viaDashboard.body.outcome).toBe('APPLIED');
      expect(viaDashboard.body.journalKey).toBe(`dashboard-${requestId}`);
      expect(viaDashboard.body.totals).toMatchObject({ sessionsHalted: 2, ordersKeptWorking: 1, unreachable: 0 });
      for (const id of [sessionA, sessionB]) expect((await sessionStatus(id)).mode).toBe('HALTED');
      // An exact replay acts on nothing again and answers what the first did.
      const replay = await dashboardAct('/api/halt', { operator: 'bob', reason: 'desk halt from the dashboard', requestId });
      expect(replay.status).toBe(200);
      expect(replay.body).toMatchObject({ replayed: true, outcome: expect.stringMatching(/^APPLIED: 2 sessions reached, 2 newly halted/) });
      const resumeDashboard = await dashboardAct('/api/resume', { operator: 'bob', reason: 'all clear again', requestId: 'desk-dashboard-0002' });
      expect(resumeDashboard.status).toBe(200);
      expect(resumeDashboard.body.totals.sessionsResumed).toBe(2);

      // ---- one journal row per action, each with its outcome; the sessions journaled none of them ----
      const rows = (await listOperatorActions(database.db)).reverse();
      expect(rows.map((r) => [r.action, r.operator, r.workflowId.replace(/^cli:.*/, 'cli'), String(r.details.outcome).split(':')[0]])).toEqual([
        ['HALT', 'alice', 'cli', 'APPLIED'],
        ['RESUME', 'alice', 'cli', 'APPLIED'],
        ['HALT', 'bob', `dashboard-${requestId}`, 'APPLIED'],
        ['RESUME', 'bob', 'dashboard-desk-dashboard-0002', 'APPLIED'],
      ]);
      expect(rows[0]!.workflowId).toBe(answer.journalKey);
      expect(world.journal.filter((j) => j.action === 'HALT' || j.action === 'RESUME')).toEqual([]);
      // The journal command shows the outcome in a column of its own.
      const journal = await cli(['journal', '--limit', '10']);
      expect(journal.code).toBe(0);
      expect(journal.stdout).toMatch(/outcome/);
      expect(journal.stdout).toMatch(/APPLIED: 2 sessions reached, 2 newly halted/);
    }, 90_000);

    it('a cancel of an order that has ended is refused (exit 3) and journaled as refused; a working order is cancelled at the venue', async () => {
      const refused = await cli(['cancel', '--order', unsent, '--reason', 'too late', '--operator', 'carol']);
      expect(refused.code).toBe(3);
      expect(refused.stdout).toMatch(/REFUSED: no order workflow is running under that ID/);
      const cancelled = await cli(['cancel', '--order', working, '--reason', 'take it off', '--operator', 'carol', '--json']);
      expect(cancelled.code).toBe(0);
      expect((JSON.parse(cancelled.stdout) as DeskOutcome).targets[0]).toMatchObject({ outcome: 'APPLIED', ordersCancelled: 1, reason: 'cancel sent to the venue' });
      await eventually(() => orderStatus(working), (s) => s.state === 'CANCELED', 'the working order cancelled');
      const again = await cli(['cancel', '--order', working, '--reason', 'twice', '--operator', 'carol']);
      expect(again.code).toBe(3);
      const rows = (await listOperatorActions(database.db, { action: 'OVERRIDE' })).reverse();
      expect(rows.map((r) => [r.reason, String(r.details.outcome).split(':')[0]])).toEqual([
        ['too late', 'REFUSED'],
        ['take it off', 'APPLIED'],
        ['twice', 'REFUSED'],
      ]);

      // The kill switch narrowed to one strategy: its session halts and cancels its open order at the venue; the other strategy is untouched.
      const open = makeClientOrderId('deskb', today, 9);
      world.seedOpenOrder(open);
      const kill = await cli(['kill', '--strategy', 'deskb', '--reason', 'runaway strategy', '--operator', 'carol', '--json']);
      expect(kill.code).toBe(0);
      const killed = JSON.parse(kill.stdout) as DeskOutcome;
      expect(killed.scope).toBe('strategy deskb');
      // (Visibility may still list the order cancelled a moment ago: it answers ENDED, and is no refusal.)
      expect(killed.targets.filter((t) => t.outcome !== 'ENDED').map((t) => [t.workflowId, t.outcome])).toEqual([[sessionB, 'APPLIED']]);
      expect(killed.targets[0]).toMatchObject({ sessionsHalted: 1, ordersCancelled: 1 });
      expect(world.openOrdersOf('deskb')).toEqual([]);
      expect((await sessionStatus(sessionB)).mode).toBe('HALTED');
      expect((await sessionStatus(sessionA)).mode).toBe('TRADING');
    }, 60_000);

    it('a bad update payload is refused by the validator naming the field, and never enters the history', async () => {
      const handle = client.workflow.getHandle(sessionA);
      const before = await sessionStatus(sessionA);
      const accepted = async () => ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
      const acceptedBefore = await accepted();
      expect(acceptedBefore).toBe(4);
      const bad = await handle.executeUpdate(haltSessionUpdate, { args: [{ operator: 'mallory', reason: 'typo', cancelOrder: true } as never] }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((bad as WorkflowUpdateFailedError).cause?.message)).toMatch(/haltSession\.cancelOrder: is not a field of haltSession/);
      const empty = await handle.executeUpdate(haltSessionUpdate, { args: [{ operator: 'mallory', reason: '\u001b[2K RESUMED' }] }).catch((e: unknown) => e);
      expect(String((empty as WorkflowUpdateFailedError).cause?.message)).toMatch(/haltSession\.reason: must not contain control characters/);
      expect(await accepted()).toBe(acceptedBefore);
      const after = await sessionStatus(sessionA);
      expect(after.trips).toEqual(before.trips);
      expect(after.mode).toBe('TRADING');
      // A bad request from a surface is refused before anything is sent.
      await expect(controlDesk(client, 'HALT', { operator: ' ', reason: 'x' })).rejects.toThrow(/halt\.operator/);
    });
  });
});
