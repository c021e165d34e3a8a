/**
 * Drill 3's hang, pinned: a PostgreSQL connection ended in the middle of a transaction (what a
 * server restart does) must not leave a connection that takes queries and never answers them.
 * postgres.js 3.4.9 wedges such a connection (its ROLLBACK is written after the socket closed:
 * the uncaught TypeError, then no write ever again); openDatabase replaces the pool on the first
 * close (db/client.ts). Both run in a child process (connection-loss-child.ts), the negative
 * control on a plain postgres.js pool. PostgreSQL only: PGlite has no connections to lose.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { CONNECT_TIMEOUT_S, REPLACED_POOL_DRAIN_S } from '../../db/client';
import { describeWhere } from '../support/requirements';
import type { LossReport } from './connection-loss-child';
import { SERVER_URL } from './harness';

function runChild(mode: 'pool' | 'bare'): Promise<LossReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./connection-loss-child.ts', import.meta.url))], {
    env: { ...process.env, LOSS_URL: SERVER_URL, LOSS_MODE: mode, LOSS_APPLICATION: `loss_${mode}_${randomBytes(4).toString('hex')}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as LossReport);
      } catch {
        reject(new Error(`the child (${mode}) exited ${code} without a report: ${stdout} ${stderr.slice(-2_000)}`));
      }
    });
  });
}

describeWhere(SERVER_URL ? null : 'set TEST_DATABASE_URL or DATABASE_URL to a PostgreSQL server', 'a server connection lost mid-transaction', () => {
  it('leaves no query waiting: the pool is replaced and every later query answers', { timeout: 60_000 }, async () => {
    const report = await runChild('pool');
    expect(report.transactionError).toBe('CONNECTION_CLOSED');
    expect(report.poolReplacements).toBeGreaterThanOrEqual(1);
    expect(report.queries.map((q) => q.error)).toEqual(Array(6).fill(null));
    // Each waits for a connection behind at most five 0.1 s sleeps, never for a handshake that cannot finish.
    expect(Math.max(...report.queries.map((q) => q.ms))).toBeLessThan((CONNECT_TIMEOUT_S * 1_000) / 2);
    expect(report.closeMs).toBeLessThan((REPLACED_POOL_DRAIN_S + 2) * 1_000);
  });

  it('negative control: a plain postgres.js pool keeps the wedged connection, and a query on it times out', { timeout: 60_000 }, async () => {
    const report = await runChild('bare');
    expect(report.transactionError).toBe('CONNECTION_CLOSED');
    // The driver defect this guards against (porsager/postgres#1208): if it is fixed upstream, this control fails and the replacement can go.
    expect(report.uncaught.some((m) => /reading 'write'/.test(m))).toBe(true);
    const timedOut = report.queries.filter((q) => q.error === 'CONNECT_TIMEOUT');
    expect(timedOut.length).toBeGreaterThanOrEqual(1);
    expect(Math.min(...timedOut.map((q) => q.ms))).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_S * 1_000 - 500);
  });
});
