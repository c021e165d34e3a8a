/**
 * Bad-input sweep of the operator CLI (cli/main.ts, `run(argv, io)`): every option given
 * a hostile value, unknown commands and options, random argument lists. A bad argument exits 2
 * with a message naming the option and no stack trace, before any record is opened; nothing ever
 * throws out of `run`; and the records (PGlite in a data dir, seeded) are byte-for-byte as they
 * were. Free text that is stored (a halt's --reason and --operator) goes in verbatim through
 * parameterised SQL: the journal (and its audit trail) gains exactly those rows, every other table
 * is unchanged.
 */
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertOrder, listOperatorActions, openDatabase, recordAlert, recordOperatorAction } from '../../db';
import { run, type CliIo } from '../../cli/main';
import type { Price, Quantity } from '../../domain/money';
import { INJECTIONS, SweepCounter, hostileString, recordsDigest, runs } from './support';

const counter = new SweepCounter('cli');
const NOW = Date.UTC(2026, 0, 15, 18);
const DAY = '2026-01-15';

let root: string;
let dataDir: string;
let closedPort: number;
let digestBefore: Awaited<ReturnType<typeof recordsDigest>>;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { DATA_DIR: dataDir, TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}`, OPERATOR: 'sweeper' },
    progressStream: null,
    now: () => NOW,
    connectTimeoutMs: 500,
    osUser: () => 'os-user',
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

async function digest() {
  const d = await openDatabase({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
  try {
    return await recordsDigest(d.db);
  } finally {
    await d.close();
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sweep-cli-'));
  dataDir = join(root, 'data');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closedPort = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  const d = await openDatabase({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
  await insertOrder(d.db, { clientOrderId: 'ema-mr-20260115-000001', marketId: 'FED-RATE-CUT', side: 'BUY', quantity: 10 as Quantity, limitPrice: 430_000 as Price, strategy: 'ema-mr', tradingDay: DAY, createdAt: NOW - 3_600_000 });
  await recordAlert(d.db, { level: 'HIGH', type: 'DAILY_LOSS_HALF', dedupeKey: 'k-1', title: 'Daily loss past half', body: 'x', raisedAt: NOW - 100_000 });
  await recordOperatorAction(d.db, { action: 'HALT', operator: 'ann', reason: 'seed', workflowId: 'seed-1', sequence: 0, details: {}, at: NOW - 50_000 });
  await d.close();
  digestBefore = await digest();
}, 120_000);

afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  counter.report();
});

/** A value no strict option takes: a character outside letters, digits, "_", ".", ":" and "-". */
const BAD_CHAR = /[^A-Za-z0-9_.:-]/;
const badText = hostileString.filter((s) => s.trim() !== '' && BAD_CHAR.test(s.trim()));

/** Commands with one option that checks its value, and the option. */
const TEMPLATES: [string[], string][] = [
  [['orders'], '--state'],
  [['orders'], '--market'],
  [['orders'], '--strategy'],
  [['orders'], '--day'],
  [['orders'], '--limit'],
  [['pnl'], '--days'],
  [['pnl'], '--by'],
  [['execution'], '--day'],
  [['execution'], '--market'],
  [['alerts'], '--level'],
  [['alerts'], '--type'],
  [['alerts'], '--limit'],
  [['journal'], '--action'],
  [['journal'], '--limit'],
  [['halt', '--reason', 'sweep'], '--day'],
  [['halt', '--reason', 'sweep'], '--strategy'],
  [['resume'], '--day'],
  [['kill', '--reason', 'sweep'], '--strategy'],
  [['session', 'start'], '--day'],
  [['reconcile', '--reason', 'sweep'], '--policy'],
  [['reconcile', '--reason', 'sweep'], '--wait'],
  [['reconcile', 'decide', '--run', 'reconcile-1', '--reason', 'sweep'], '--decision'],
  [['preflight'], '--markets'],
  [['preflight'], '--strategy'],
];

describe('bad arguments', () => {
  it('a hostile value for any checked option exits 2 naming the option, before any record is opened', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TEMPLATES), badText, async ([command, option], value) => {
        counter.tried(`bad option value (${command[0]} ${option})`);
        const r = await cli([...command, option, value]);
        expect(r.code, `${command.join(' ')} ${option} ${JSON.stringify(value.slice(0, 60))}: ${r.stderr.slice(0, 300)}`).toBe(2);
        expect(r.stderr).toMatch(/error/);
        expect(r.stderr).toContain(option.replace(/^--/, ''));
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }),
      { numRuns: runs(300) },
    );
  });

  it('a reason that is empty or too long, and an operator that is empty or too long, exit 2', async () => {
    const bad = fc.oneof(fc.constantFrom('', ' ', '\t\n'), fc.integer({ min: 1_001, max: 20_000 }).map((n) => 'r'.repeat(n)));
    const badOperator = fc.oneof(fc.constantFrom('', '  '), fc.integer({ min: 101, max: 5_000 }).map((n) => 'o'.repeat(n)));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('halt', 'kill'), fc.oneof(bad.map((v) => ['--reason', v]), badOperator.map((v) => ['--reason', 'sweep', '--operator', v])), async (command, args) => {
        counter.tried('bad reason or operator');
        const r = await cli([command, ...args]);
        expect(r.code, r.stderr.slice(0, 300)).toBe(2);
        expect(r.stderr).toMatch(/--reason|--operator/);
      }),
      { numRuns: runs(60) },
    );
  });

  it('audit of a hostile client order ID exits 2', async () => {
    await fc.assert(
      fc.asyncProperty(badText, async (id) => {
        counter.tried('audit: hostile client order ID');
        const r = await cli(['audit', id]);
        expect(r.code, r.stderr.slice(0, 300)).toBe(2);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }),
      { numRuns: runs(60) },
    );
  });

  it('unknown commands and options, and random argument lists, never throw and never print a stack trace', async () => {
    const known = fc.constantFrom('orders', 'alerts', 'journal', 'pnl', 'execution', 'audit', 'backtest', 'nonsense', '--json', '--limit', '--day', '--help', '-h', '--', '-');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(known, hostileString), { minLength: 1, maxLength: 6 }), async (argv) => {
        // Control commands are left out: a valid one journals before it acts, by design.
        fc.pre(!['halt', 'kill', 'resume', 'session', 'reconcile'].includes(argv[0]!));
        counter.tried('random argument list');
        const r = await cli(argv);
        expect([0, 1, 2, 3]).toContain(r.code);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        if (r.code === 2) expect(r.stderr.length).toBeGreaterThan(0);
      }),
      { numRuns: runs(80) },
    );
  });
});

describe('records', () => {
  it('are unchanged after the sweeps above', async () => {
    expect(await digest()).toEqual(digestBefore);
  });

  it('stored free text goes in verbatim: injection in --reason and --operator adds only those journal rows', async () => {
    const texts = INJECTIONS.filter((s) => s.trim() !== '' && s.length <= 100 && !s.includes('\u0000') && !/^\s|\s$/.test(s)).slice(0, 6);
    for (const text of texts) {
      counter.tried('stored free text (journal)');
      const r = await cli(['halt', '--reason', text, '--operator', text]);
      // Journaled first, then no Temporal server answers: exit 1.
      expect(r.code, r.stderr.slice(0, 300)).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const after = await digest();
    // Each journal entry writes its operator_actions row and its audit_log row; nothing else moves.
    const { operator_actions: journalAfter, audit_log: auditAfter, ...restAfter } = after;
    const { operator_actions: journalBefore, audit_log: auditBefore, ...restBefore } = digestBefore;
    expect(restAfter).toEqual(restBefore);
    expect(journalAfter!.rows).toBe(journalBefore!.rows + texts.length);
    expect(auditAfter!.rows).toBe(auditBefore!.rows + texts.length);
    const d = await openDatabase({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
    try {
      const rows = await listOperatorActions(d.db, { action: 'HALT', limit: 100 });
      for (const text of texts) expect(rows.some((row) => row.reason === text && row.operator === text)).toBe(true);
    } finally {
      await d.close();
    }
  }, 120_000);
});
