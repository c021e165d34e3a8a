/**
 * `status` on a real Temporal dev server: two strategies' sessions run on a worker (in-memory
 * activities), one of them halted by an operator, and the worker's Schedules are created as
 * worker/schedules.ts creates them. The desk must list both sessions as running with their live
 * state, the halted one's breaker and why, and the next daily reset and reconciliation exactly as
 * the server's schedule describe gives them. The records are an empty PGlite of the test's own:
 * the sessions are found through visibility alone. With the records held by another process it
 * still shows what Temporal knows.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run, type CliIo } from '../../cli/main';
import { time } from '../../cli/format';
import { sessionWorkflowId } from '../../domain/ids';
import { loadConfig } from '../../runtime/config';
import { haltSignal, sessionStatusQuery } from '../../workflows/api';
import type { sessionWorkflow } from '../../workflows';
import { SCHEDULE_IDS, ensureSchedules } from '../../worker/schedules';
import { FakeWorld } from '../worker/fake-activities';
import { terminateQuietly, testSessionInput } from '../support/server-sessions';
import { describeOnServer, eventually, temporalServerForFile, type TestServer } from '../support/temporal-server';

const found = await temporalServerForFile();

describeOnServer(found, 'status: the desk on a Temporal server', (server: TestServer) => {
  const today = new Date().toISOString().slice(0, 10);
  const root = mkdtempSync(join(tmpdir(), 'durable-trader-status-server-'));
  const env = { DATA_DIR: root, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace, TRADING_TIME_ZONE: 'UTC', OPERATOR: 'tester' };
  const strategies = ['deska', 'deskb'];
  const sessions: WorkflowHandle<typeof sessionWorkflow>[] = [];
  let worker: { stop(): Promise<void> } | null = null;

  async function cli(argv: string[], over: Record<string, string> = {}) {
    let stdout = '';
    let stderr = '';
    const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { ...env, ...over }, progressStream: null, now: () => Date.now(), connectTimeoutMs: 5_000, osUser: () => 'os-user' };
    const code = await run(argv, io);
    return { code, stdout, stderr };
  }

  /** The next action time of each schedule, as the server describes it now. */
  async function nextActions(): Promise<Record<'dailyReset' | 'reconciliation', string>> {
    const next = async (id: string) => (await server.client.schedule.getHandle(id).describe()).info.nextActionTimes[0]!.toISOString();
    return { dailyReset: await next(SCHEDULE_IDS.dailyReset), reconciliation: await next(SCHEDULE_IDS.reconciliation) };
  }

  beforeAll(async () => {
    const taskQueue = server.unique('status-tq');
    worker = await server.startWorker(new FakeWorld().activities(), taskQueue);
    for (const strategy of strategies) {
      sessions.push(await server.client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', { taskQueue, workflowId: sessionWorkflowId(strategy, today), args: [testSessionInput(strategy, today)] }));
    }
    for (const h of sessions) await eventually(() => h.query(sessionStatusQuery), (s) => s.mode === 'TRADING', `${h.workflowId} to trade`);
    await sessions[1]!.signal(haltSignal, { operator: 'ann', reason: 'desk drill: venue acting up' });
    await eventually(() => sessions[1]!.query(sessionStatusQuery), (s) => s.mode === 'HALTED', 'the halt to reach the session');
    await ensureSchedules(server.client, loadConfig(env), { info: () => undefined, warn: (m) => console.warn(m) });
    // Visibility is eventually consistent: both sessions listed running before the CLI asks.
    await eventually(
      async () => {
        const ids: string[] = [];
        for await (const w of server.client.workflow.list({ query: "WorkflowType='sessionWorkflow' AND ExecutionStatus='Running'" })) ids.push(w.workflowId);
        return ids;
      },
      (ids) => sessions.every((h) => ids.includes(h.workflowId)),
      'visibility to list both sessions running',
    );
  }, 90_000);

  afterAll(async () => {
    for (const h of sessions) await terminateQuietly(h);
    await worker?.stop();
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('lists both running sessions with their live state, the halt and why, and the next reset and reconciliation the server describes', async () => {
    const before = await nextActions();
    const r = await cli(['status', '--json']);
    const after = await nextActions();
    expect(r.code, r.stderr).toBe(0);
    const desk = JSON.parse(r.stdout) as {
      temporal: { address?: string; runningSessions?: number };
      sessions: { workflowId: string; running: boolean | null; live: { mode?: string; breakerStatus?: string; trips?: { kind: string; reason: string; operator: string | null }[] } }[];
      schedules: Record<string, { exists: boolean; paused: boolean; nextActionAt: string | null }>;
    };
    expect(desk.temporal).toEqual({ address: server.address, runningSessions: 2 });
    expect(desk.sessions.map((s) => [s.workflowId, s.running, s.live.mode])).toEqual([
      [sessionWorkflowId('deska', today), true, 'TRADING'],
      [sessionWorkflowId('deskb', today), true, 'HALTED'],
    ]);
    expect(desk.sessions[1]!.live).toMatchObject({ breakerStatus: 'MANUALLY_HALTED', trips: [{ kind: 'MANUAL', operator: 'ann' }] });
    expect(desk.sessions[1]!.live.trips![0]!.reason).toContain('desk drill: venue acting up');
    // Exactly the server's next action times (a boundary may pass between the reads: then the later one).
    for (const name of ['dailyReset', 'reconciliation'] as const) {
      expect(desk.schedules[name]).toMatchObject({ exists: true, paused: false });
      expect([before[name], after[name]]).toContain(desk.schedules[name]!.nextActionAt);
    }
    expect(Date.parse(desk.schedules.dailyReset!.nextActionAt!)).toBeGreaterThan(Date.now());

    const text = await cli(['status']);
    const described = await nextActions();
    expect(text.code, text.stderr).toBe(0);
    console.log(`durable-trader status\n${text.stdout}`);
    expect(text.stdout).toContain(`Temporal: ${server.address} answered; 2 sessions running`);
    expect(text.stdout).toMatch(new RegExp(`${sessionWorkflowId('deska', today)}\\s+yes\\s+not recorded\\s+TRADING\\s+NORMAL`));
    expect(text.stdout).toMatch(new RegExp(`${sessionWorkflowId('deskb', today)}\\s+yes\\s+not recorded\\s+HALTED\\s+MANUALLY_HALTED\\s+0\\s+MANUAL since .*desk drill: venue acting up.*\\(by ann\\)`));
    expect(text.stdout).toMatch(new RegExp(`daily reset\\s+${time(Date.parse(described.dailyReset)).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(text.stdout).toMatch(/reconciliation\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
  }, 60_000);

  it('records held by another process (PGlite): says so and shows what Temporal knows', async () => {
    const held = join(root, 'held');
    mkdirSync(join(held, 'pglite'), { recursive: true });
    writeFileSync(join(held, 'pglite', 'postmaster.pid'), '-42\n');
    const r = await cli(['status', '--json'], { DATA_DIR: held });
    expect(r.code, r.stderr).toBe(0);
    const desk = JSON.parse(r.stdout) as { records: { unavailable?: string }; sessions: { workflowId: string; running: boolean; openOrders: number | null; live: { mode?: string } }[]; limits: unknown; schedules: Record<string, { exists: boolean }> };
    expect(desk.records.unavailable).toMatch(/open in another process/);
    expect(desk.sessions.map((s) => [s.workflowId, s.running, s.openOrders, s.live.mode])).toEqual([
      [sessionWorkflowId('deska', today), true, null, 'TRADING'],
      [sessionWorkflowId('deskb', today), true, null, 'HALTED'],
    ]);
    expect(desk.limits).toBeNull();
    expect(desk.schedules.dailyReset).toMatchObject({ exists: true });
    const text = await cli(['status'], { DATA_DIR: held });
    expect(text.stdout).toMatch(/Records: unavailable \(.*open in another process.*\); what follows is Temporal alone/);
    expect(text.stdout).toContain('Open orders, P&L, limits, reconciliation: unavailable (the records could not be read)');
  }, 60_000);
});
