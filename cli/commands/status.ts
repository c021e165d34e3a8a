/**
 * `status`: the desk by default, one session with --strategy or --day.
 *
 * The desk: every session of the day in the records and every session Temporal visibility lists
 * as running (`WorkflowType='sessionWorkflow' AND ExecutionStatus='Running'`, so a session of
 * yesterday still running past midnight shows too), each with its state, breakers and why, and
 * open orders; the desk's open orders; the day's P&L against the config's risk limits (the
 * dashboard's risk panel, dashboard/api.ts, so both surfaces measure alike); the last
 * reconciliation in the records; and the next run of each Schedule the worker creates
 * (worker/schedules.ts), as the server's schedule describe gives it. When Temporal does not
 * answer (or --records-only), it says so and shows the records; when the records cannot be read
 * (PGlite held by another process), it says so and shows what Temporal knows.
 */
import type { Command } from 'commander';
import { listDailyPnl, listDiscrepancies, listOpenOrders, listReconciliationRuns, listSessions, loadActiveTrips, RecordError, type Db, type OrderRecord } from '../../db';
import type { SessionStatus } from '../../workflows/api';
import type { BreakerTrip } from '../../domain/breakers';
import { parseSessionWorkflowId, sessionWorkflowId } from '../../domain/ids';
import type { Money } from '../../domain/money';
import type { RiskLimits } from '../../domain/risk-limits';
import { createDashboardApi } from '../../dashboard/api';
import type { CliContext } from '../context';
import { ArgumentCheck, CliError, ExitCode } from '../exit-codes';
import { decimal, fields, isoTime, json, money, percent, price, table, time } from '../format';
import { checkTarget, resolveTarget, withJson, withTarget } from './common';

const tripJson = (t: BreakerTrip) => ({
  ...t,
  since: isoTime(t.since),
  // DAILY_LOSS measures micros of money; the other kinds are counts or fractions.
  observed: t.kind === 'DAILY_LOSS' ? decimal(t.observed) : t.observed,
  limit: t.kind === 'DAILY_LOSS' ? decimal(t.limit) : t.limit,
});

const tripText = (t: BreakerTrip) => `${t.kind} since ${time(t.since)}: ${t.reason}${t.operator ? ` (by ${t.operator})` : ''}`;

function liveJson(s: SessionStatus) {
  return {
    ...s,
    trips: s.trips.map(tripJson),
    lastSignalAt: isoTime(s.lastSignalAt),
    snapshot:
      s.snapshot === null
        ? null
        : {
            ...s.snapshot,
            at: isoTime(s.snapshot.at),
            metrics: { ...s.snapshot.metrics, equity: decimal(s.snapshot.metrics.equity), dailyPnl: decimal(s.snapshot.metrics.dailyPnl) },
            realizedPnl: decimal(s.snapshot.realizedPnl),
            unrealizedPnl: decimal(s.snapshot.unrealizedPnl),
            fees: decimal(s.snapshot.fees),
            exposure: decimal(s.snapshot.exposure),
          },
  };
}

type Live = { available: true; status: SessionStatus } | { available: false; reason: string };

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** How long one answer from the server may take: the connect timeout, at least 5 s. */
const answerDeadline = (ctx: CliContext): number => Date.now() + Math.max(ctx.io.connectTimeoutMs ?? 5_000, 5_000);

async function liveStatus(ctx: CliContext, workflowId: string): Promise<Live> {
  try {
    const { client, connection } = await ctx.temporal();
    const { querySessionStatus } = await import('../../runtime/session-control');
    return { available: true, status: await connection.withDeadline(answerDeadline(ctx), () => querySessionStatus(client, workflowId)) };
  } catch (e) {
    return { available: false, reason: errorText(e) };
  }
}

// ---- one session (--strategy / --day) ----

async function sessionStatus(ctx: CliContext, target: { strategy?: string; day?: string }, opts: { json?: boolean; recordsOnly?: boolean }): Promise<number> {
  const { strategy, tradingDay } = resolveTarget(ctx, target);
  const workflowId = sessionWorkflowId(strategy, tradingDay);
  const db = await ctx.records();
  const [session] = await listSessions(db, { strategy, tradingDay, limit: 1 });
  const trips = await loadActiveTrips(db, strategy);
  const openOrders = await listOpenOrders(db, { strategy });
  const [pnl] = await listDailyPnl(db, { from: tradingDay, to: tradingDay });
  const live: Live = opts.recordsOnly ? { available: false, reason: 'not asked (--records-only)' } : await liveStatus(ctx, workflowId);

  if (opts.json) {
    ctx.out(
      json({
        workflowId,
        strategy,
        tradingDay,
        records: {
          session: session ? { ...session, startedAt: isoTime(session.startedAt), endedAt: isoTime(session.endedAt) } : null,
          activeTrips: trips.map(tripJson),
          openOrders: openOrders.length,
          pnl: db !== null && pnl ? { realizedPnl: decimal(pnl.realizedPnl), unrealizedPnl: decimal(pnl.unrealizedPnl), fees: decimal(pnl.fees), netPnl: decimal(pnl.netPnl), fills: pnl.fillCount } : null,
        },
        live: live.available ? liveJson(live.status) : { unavailable: live.reason },
      }),
    );
    return ExitCode.OK;
  }
  const lines: [string, string][] = [
    ['Session', workflowId],
    ['Recorded', session ? `${session.status} (${session.mode}), started ${time(session.startedAt)}${session.endedAt ? `, ended ${time(session.endedAt)}` : ''}` : 'no session recorded for this day'],
    ['Halts in force', trips.length === 0 ? 'none' : trips.map(tripText).join('; ')],
    ['Open orders', String(openOrders.length)],
    ['P&L of the day', pnl ? `net ${money(pnl.netPnl)} (realized ${money(pnl.realizedPnl)}, unrealized ${money(pnl.unrealizedPnl)}, fees ${money(pnl.fees)}; ${pnl.fillCount} fills)` : 'no fills or marks recorded'],
  ];
  if (live.available) {
    const s = live.status;
    lines.push(['Live mode', `${s.mode}${s.haltReason ? ` (${s.haltReason})` : ''}; breakers ${s.breakerStatus}`]);
    lines.push(['Orders started', String(s.ordersStarted)]);
    lines.push(['Last signal', time(s.lastSignalAt)]);
    if (s.snapshot) lines.push(['Live P&L', `realized ${money(s.snapshot.realizedPnl)}, unrealized ${money(s.snapshot.unrealizedPnl)}, fees ${money(s.snapshot.fees)}, exposure ${money(s.snapshot.exposure)}`]);
    if (s.refusedSignals.length > 0) lines.push(['Refused signals', s.refusedSignals.join('; ')]);
  } else {
    lines.push(['Live', `unavailable: ${live.reason}`]);
  }
  ctx.out(fields(lines));
  if (live.available && live.status.preflight) {
    ctx.out(`\nPre-flight\n${table([{ header: 'check' }, { header: 'ok' }, { header: 'detail' }], live.status.preflight.map((c) => [c.name, c.ok ? 'yes' : 'NO', c.detail]))}`);
  }
  return ExitCode.OK;
}

// ---- the desk ----

/** The risk limits the desk view shows: loss, exposure and position limits (per-order limits are the dashboard's). */
export const DESK_LIMITS: readonly (keyof RiskLimits)[] = [
  'maxDailyLoss',
  'maxPortfolioExposure',
  'maxCategoryExposure',
  'maxPositionValue',
  'maxPositionSize',
  'maxOpenPositions',
  'maxPositionPercent',
  'maxTotalExposurePercent',
];

/** The schedules the worker creates (worker/schedules.ts SCHEDULE_IDS), in the order shown. */
const SCHEDULES = [
  ['dailyReset', 'daily reset'],
  ['reconciliation', 'reconciliation'],
  ['sessionStart', 'session start'],
  ['marketResolution', 'market resolution'],
] as const;

/** Sessions visibility lists at most; a desk has a handful. */
const MAX_RUNNING_SESSIONS = 200;
const MAX_OPEN_ORDERS_SHOWN = 50;

interface ScheduleView {
  name: (typeof SCHEDULES)[number][0];
  label: string;
  scheduleId: string;
  /** False when the server has no schedule under this ID (the worker creates them at start). */
  exists: boolean;
  paused: boolean;
  note: string | null;
  /** The server's next action times, soonest first (at most 3). */
  nextActionTimes: number[];
}

type DeskTemporal =
  | { available: true; address: string; running: string[]; schedules: ScheduleView[] | { unavailable: string } }
  | { available: false; reason: string };

async function describeSchedules(ctx: CliContext): Promise<ScheduleView[] | { unavailable: string }> {
  const { client, connection } = await ctx.temporal();
  const [{ SCHEDULE_IDS }, { ScheduleNotFoundError }] = await Promise.all([import('../../worker/schedules'), import('@temporalio/client')]);
  try {
    return await connection.withDeadline(answerDeadline(ctx), () =>
      Promise.all(
        SCHEDULES.map(async ([name, label]): Promise<ScheduleView> => {
          const scheduleId = SCHEDULE_IDS[name];
          try {
            const d = await client.schedule.getHandle(scheduleId).describe();
            return { name, label, scheduleId, exists: true, paused: d.state.paused, note: d.state.note ?? null, nextActionTimes: d.info.nextActionTimes.slice(0, 3).map((t) => t.getTime()) };
          } catch (e) {
            if (!(e instanceof ScheduleNotFoundError)) throw e;
            return { name, label, scheduleId, exists: false, paused: false, note: null, nextActionTimes: [] };
          }
        }),
      ),
    );
  } catch (e) {
    return { unavailable: errorText(e) };
  }
}

async function deskTemporal(ctx: CliContext, recordsOnly: boolean): Promise<DeskTemporal> {
  if (recordsOnly) return { available: false, reason: 'not asked (--records-only)' };
  try {
    const { client, connection, address } = await ctx.temporal();
    const { listRunning } = await import('../../runtime/desk-control');
    const running = await connection.withDeadline(answerDeadline(ctx), () => listRunning(client, 'sessionWorkflow', MAX_RUNNING_SESSIONS));
    return { available: true, address, running, schedules: await describeSchedules(ctx) };
  } catch (e) {
    return { available: false, reason: errorText(e) };
  }
}

interface DeskSession {
  workflowId: string;
  strategy: string;
  tradingDay: string;
  /** Listed running by visibility; null when Temporal was not asked or did not answer. */
  running: boolean | null;
  recorded: Awaited<ReturnType<typeof listSessions>>[number] | null;
  /** Breaker trips in force for the strategy, from the records (halts outlive sessions). */
  trips: BreakerTrip[];
  openOrders: number;
  live: Live;
}

function sessionKey(workflowId: string): { strategy: string; tradingDay: string } | null {
  try {
    return parseSessionWorkflowId(workflowId);
  } catch {
    return null;
  }
}

async function desk(ctx: CliContext, opts: { json?: boolean; recordsOnly?: boolean }): Promise<number> {
  const config = ctx.config();
  const today = ctx.today();
  const now = ctx.io.now();
  // The records and the server are each shown when the other does not answer (PGlite held by another process, a server down).
  let db: Db | null = null;
  let recordsProblem: string | null = null;
  try {
    db = await ctx.records();
  } catch (e) {
    if (!(e instanceof CliError) && !(e instanceof RecordError)) throw e;
    recordsProblem = errorText(e);
  }
  const temporal = await deskTemporal(ctx, opts.recordsOnly === true);
  if (db === null && !temporal.available) throw new CliError(ExitCode.FAILURE, `neither the records (${recordsProblem}) nor Temporal (${temporal.reason}) answered`);
  const read = async <T>(fn: (db: Db) => Promise<T>, none: T): Promise<T> => (db === null ? none : fn(db));

  const byId = new Map<string, DeskSession>();
  const add = (workflowId: string, strategy: string, tradingDay: string) => {
    if (!byId.has(workflowId)) byId.set(workflowId, { workflowId, strategy, tradingDay, running: temporal.available ? false : null, recorded: null, trips: [], openOrders: 0, live: { available: false, reason: temporal.available ? 'not running' : temporal.reason } });
    return byId.get(workflowId)!;
  };
  for (const row of await read((d) => listSessions(d, { tradingDay: today }), [])) add(row.sessionId, row.strategy, row.tradingDay).recorded = row;
  if (temporal.available) {
    for (const id of temporal.running) {
      const key = sessionKey(id);
      if (key === null) continue;
      const s = add(id, key.strategy, key.tradingDay);
      s.running = true;
      // A session of another day (still running past midnight): its own record.
      s.recorded ??= (await read((d) => listSessions(d, { strategy: key.strategy, tradingDay: key.tradingDay, limit: 1 }), []))[0] ?? null;
    }
  }
  const sessions = [...byId.values()].sort((a, b) => (a.strategy === b.strategy ? (a.tradingDay < b.tradingDay ? -1 : 1) : a.strategy < b.strategy ? -1 : 1));
  const open = await read((d) => listOpenOrders(d, { limit: 1_000 }), []);
  const strategies = [...new Set(sessions.map((s) => s.strategy))];
  const trips = new Map(await Promise.all(strategies.map(async (s) => [s, await read((d) => loadActiveTrips(d, s), [])] as const)));
  await Promise.all(
    sessions.map(async (s) => {
      s.trips = trips.get(s.strategy) ?? [];
      s.openOrders = open.filter((o) => o.strategy === s.strategy).length;
      if (s.running === true) s.live = await liveStatus(ctx, s.workflowId);
    }),
  );

  const [pnl] = await read((d) => listDailyPnl(d, { from: today, to: today }), []);
  // Equity (cash + positions at their marks) is known only to a live session, from its last snapshot.
  const equity = sessions.flatMap((s) => (s.live.available && s.live.status.snapshot ? [s.live.status.snapshot] : [])).sort((a, b) => b.at - a.at)[0]?.metrics.equity ?? null;
  const panel = await read(
    (d) => createDashboardApi({ db: d, limits: config.riskLimits, account: 'paper', timeZone: config.timeZone, temporalUiUrl: '', namespace: config.temporal.namespace, quotes: null, clock: () => now }).risk({ equity: equity as Money | null }),
    null,
  );
  const limits = panel === null ? null : DESK_LIMITS.flatMap((name) => panel.limits.filter((l) => l.name === name));
  const [lastRun] = await read((d) => listReconciliationRuns(d, 1), []);
  const discrepancies = lastRun ? (await read((d) => listDiscrepancies(d, lastRun.runId), [])).length : 0;

  if (opts.json) {
    ctx.out(
      json({
        view: 'desk',
        tradingDay: today,
        timeZone: config.timeZone,
        at: isoTime(now),
        temporal: temporal.available ? { address: temporal.address, runningSessions: temporal.running.length } : { unavailable: temporal.reason },
        records: recordsProblem === null ? { available: true } : { unavailable: recordsProblem },
        sessions: sessions.map((s) => ({
          workflowId: s.workflowId,
          strategy: s.strategy,
          tradingDay: s.tradingDay,
          running: s.running,
          recorded: s.recorded ? { status: s.recorded.status, mode: s.recorded.mode, startedAt: isoTime(s.recorded.startedAt), endedAt: isoTime(s.recorded.endedAt) } : null,
          activeTrips: s.trips.map(tripJson),
          openOrders: db === null ? null : s.openOrders,
          live: s.live.available
            ? { mode: s.live.status.mode, breakerStatus: s.live.status.breakerStatus, haltReason: s.live.status.haltReason, trips: s.live.status.trips.map(tripJson), ordersStarted: s.live.status.ordersStarted, lastSignalAt: isoTime(s.live.status.lastSignalAt) }
            : { unavailable: s.live.reason },
        })),
        openOrders: open.map(orderJson),
        pnl: pnl ? { realizedPnl: decimal(pnl.realizedPnl), unrealizedPnl: decimal(pnl.unrealizedPnl), fees: decimal(pnl.fees), netPnl: decimal(pnl.netPnl), fills: pnl.fillCount } : null,
        limits,
        reconciliation: lastRun ? { runId: lastRun.runId, status: lastRun.status, policy: lastRun.policy, startedAt: isoTime(lastRun.startedAt), finishedAt: isoTime(lastRun.finishedAt), discrepancies } : null,
        schedules: !temporal.available
          ? { unavailable: temporal.reason }
          : 'unavailable' in temporal.schedules
            ? temporal.schedules
            : Object.fromEntries(
                temporal.schedules.map((s) => [s.name, { scheduleId: s.scheduleId, exists: s.exists, paused: s.paused, note: s.note, nextActionAt: isoTime(s.nextActionTimes[0] ?? null), nextActionTimes: s.nextActionTimes.map((t) => isoTime(t)) }]),
              ),
      }),
    );
    return ExitCode.OK;
  }

  const out: string[] = [];
  out.push(`Desk on ${today} (${config.timeZone}), at ${time(now)}\n`);
  out.push(
    temporal.available
      ? `Temporal: ${temporal.address} answered; ${temporal.running.length} session${temporal.running.length === 1 ? '' : 's'} running\n`
      : `Temporal: unavailable (${temporal.reason}); what follows is the records alone\n`,
  );
  if (recordsProblem !== null) out.push(`Records: unavailable (${recordsProblem}); what follows is Temporal alone\n`);
  out.push(
    `\nSessions\n${table(
      [{ header: 'session' }, { header: 'running' }, { header: 'recorded' }, { header: 'live' }, { header: 'breakers' }, { header: 'open orders', align: 'right' }, { header: 'why' }],
      sessions.map((s) => {
        const liveTrips = s.live.available ? s.live.status.trips : s.trips;
        const why = [...(s.live.available && s.live.status.haltReason && liveTrips.length === 0 ? [s.live.status.haltReason] : []), ...liveTrips.map(tripText)];
        return [
          s.workflowId,
          s.running === null ? '?' : s.running ? 'yes' : 'no',
          db === null ? '?' : s.recorded ? `${s.recorded.status} (${s.recorded.mode})` : 'not recorded',
          s.live.available ? s.live.status.mode : '-',
          s.live.available ? s.live.status.breakerStatus : db === null ? '?' : s.trips.length === 0 ? 'none in force' : `${s.trips.length} tripped`,
          db === null ? '?' : String(s.openOrders),
          why.length === 0 ? '-' : why.join('; '),
        ];
      }),
    )}`,
  );
  const shown = open.slice(0, MAX_OPEN_ORDERS_SHOWN);
  if (db === null) out.push(`\nOpen orders, P&L, limits, reconciliation: unavailable (the records could not be read)\n`);
  else {
    out.push(
      `\nOpen orders (${open.length}${open.length > shown.length ? `, first ${shown.length} shown` : ''})\n${table(
        [{ header: 'order' }, { header: 'strategy' }, { header: 'market' }, { header: 'side' }, { header: 'qty', align: 'right' }, { header: 'filled', align: 'right' }, { header: 'limit', align: 'right' }, { header: 'state' }, { header: 'created' }],
        shown.map((o) => [o.clientOrderId, o.strategy, o.marketId, o.side, String(o.quantity), String(o.filledQuantity), price(o.limitPrice), o.state, time(o.createdAt)]),
      )}`,
    );
    out.push(
      `\n${fields([['P&L of the day', pnl ? `net ${money(pnl.netPnl)} (realized ${money(pnl.realizedPnl)}, unrealized ${money(pnl.unrealizedPnl)}, fees ${money(pnl.fees)}; ${pnl.fillCount} fills)` : 'no fills or marks recorded']])}`,
    );
    out.push(
      `\nLimits\n${table(
        [{ header: 'limit' }, { header: 'used', align: 'right' }, { header: 'of', align: 'right' }, { header: 'use', align: 'right' }, { header: 'detail' }],
        (limits ?? []).map((l) => [l.label, l.used ?? '-', l.limit, percent(l.utilization), l.detail]),
      )}`,
    );
    out.push(
      `\n${fields([
        [
          'Last reconciliation',
          lastRun
            ? `${lastRun.status} (${lastRun.runId}), started ${time(lastRun.startedAt)}${lastRun.finishedAt !== null ? `, finished ${time(lastRun.finishedAt)}` : ''}; ${discrepancies} discrepanc${discrepancies === 1 ? 'y' : 'ies'}`
            : 'none recorded',
        ],
      ])}`,
    );
  }
  if (!temporal.available) out.push(`\nSchedules: unavailable (Temporal did not answer)\n`);
  else if ('unavailable' in temporal.schedules) out.push(`\nSchedules: unavailable (${temporal.schedules.unavailable})\n`);
  else {
    out.push(
      `\nSchedules\n${table(
        [{ header: 'job' }, { header: 'next run' }, { header: 'then' }, { header: 'state' }],
        temporal.schedules.map((s) => [
          s.label,
          s.exists ? time(s.nextActionTimes[0] ?? null) : 'not created (the worker creates it at start)',
          s.nextActionTimes.slice(1).map(time).join(', '),
          !s.exists ? '-' : s.paused ? `PAUSED${s.note ? `: ${s.note}` : ''}` : 'active',
        ]),
      )}`,
    );
  }
  ctx.out(out.join(''));
  return ExitCode.OK;
}

const orderJson = (o: OrderRecord) => ({
  clientOrderId: o.clientOrderId,
  strategy: o.strategy,
  marketId: o.marketId,
  side: o.side,
  quantity: o.quantity,
  filledQuantity: o.filledQuantity,
  limitPrice: decimal(o.limitPrice),
  state: o.state,
  createdAt: isoTime(o.createdAt),
});

async function status(ctx: CliContext, opts: { strategy?: string; day?: string; json?: boolean; recordsOnly?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const target = checkTarget(check, opts);
  check.done();
  if (target.strategy === undefined && target.day === undefined) return desk(ctx, opts);
  return sessionStatus(ctx, target, opts);
}

export function registerStatusCommand(program: Command, ctx: CliContext): void {
  withJson(withTarget(program.command('status')))
    .description(
      "the desk: every session of the day and every running one (state, breakers and why, open orders), P&L against the risk limits, the last reconciliation and the next scheduled jobs; --strategy or --day: one session's detail",
    )
    .option('--records-only', 'do not ask the Temporal server')
    .action((opts) => ctx.run(() => status(ctx, opts)));
}
