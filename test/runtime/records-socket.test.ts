/**
 * The embedded records served over the wire protocol (runtime/records-socket.ts): concurrent
 * clients' transactions do not interleave in PGlite's one session (a transfer invariant), nor do
 * their extended-protocol queries; a wrong password, a connection idle inside a transaction and
 * the discovery file's states (live, stale, closed, tampered) each do what the module says.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInput } from '../../domain/errors';
import { loadConfig } from '../../runtime/config';
import { discoveryFile, locateRecords, readDiscovery, serveRecords, type RecordsServer } from '../../runtime/records-socket';

const root = mkdtempSync(join(tmpdir(), 'records-socket-'));
const pgliteDir = join(root, 'pglite');
let served: RecordsServer;
const clients: postgres.Sql[] = [];

function client(url = served.url, max = 3): postgres.Sql {
  const sql = postgres(url, { prepare: false, max, onnotice: () => {}, connect_timeout: 10 });
  clients.push(sql);
  return sql;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pid no process has: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

beforeAll(async () => {
  served = await serveRecords({ pgliteDir, port: null, idleInTransactionMs: 1_500 });
  const sql = client();
  await sql`CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)`;
  await sql`INSERT INTO accounts VALUES (1, 1000), (2, 1000)`;
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.end({ timeout: 1 })));
  await served?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('records served over the socket', () => {
  it('keeps two clients\' transfer transactions whole: every concurrent read sees the same total, and no transfer is lost', async () => {
    const alice = client();
    const bob = client();
    const reader = client();
    const TRANSFERS = 25;
    // Each transfer reads, waits (so the other client's messages arrive meanwhile), then writes
    // what it read: interleaved in one session, a transfer would overwrite the other's balance.
    const transfer = (sql: postgres.Sql, from: number, to: number) =>
      sql.begin(async (tx) => {
        const [a] = await tx<{ balance: string }[]>`SELECT balance FROM accounts WHERE id = ${from}`;
        await sleep(2);
        const [b] = await tx<{ balance: string }[]>`SELECT balance FROM accounts WHERE id = ${to}`;
        await tx`UPDATE accounts SET balance = ${Number(a!.balance) - 7} WHERE id = ${from}`;
        await sleep(1);
        await tx`UPDATE accounts SET balance = ${Number(b!.balance) + 7} WHERE id = ${to}`;
      });
    let reading = true;
    const totals: number[] = [];
    const reads = (async () => {
      while (reading) {
        const [row] = await reader<{ total: string }[]>`SELECT sum(balance) AS total FROM accounts`;
        totals.push(Number(row!.total));
        await sleep(1);
      }
    })();
    await Promise.all([
      (async () => {
        for (let i = 0; i < TRANSFERS; i++) await transfer(alice, 1, 2);
      })(),
      (async () => {
        for (let i = 0; i < TRANSFERS; i++) await transfer(bob, 1, 2);
      })(),
    ]);
    reading = false;
    await reads;
    const rows = await reader<{ id: number; balance: string }[]>`SELECT id, balance FROM accounts ORDER BY id`;
    expect(rows.map((r) => Number(r.balance))).toEqual([1000 - 2 * TRANSFERS * 7, 1000 + 2 * TRANSFERS * 7]);
    expect(totals.length).toBeGreaterThan(0);
    expect(new Set(totals)).toEqual(new Set([2000]));
  }, 120_000);

  it('answers concurrent parameterised queries of several connections each with its own parameters', async () => {
    const a = client(undefined, 3);
    const b = client(undefined, 3);
    const failures: string[] = [];
    const run = async (sql: postgres.Sql, tag: number) => {
      for (let i = 0; i < 60; i++) {
        const want = tag * 1_000 + i;
        try {
          const [row] = await sql<{ v: number; t: string }[]>`SELECT ${want}::int AS v, ${`t${tag}`}::text AS t`;
          if (row!.v !== want || row!.t !== `t${tag}`) failures.push(`${tag}: got ${row!.v}/${row!.t}, wanted ${want}`);
        } catch (e) {
          failures.push(`${tag}: ${(e as Error).message}`);
        }
      }
    };
    await Promise.all([run(a, 1), run(a, 2), run(b, 3), run(b, 4)]);
    expect(failures).toEqual([]);
  }, 60_000);

  it('refuses a wrong password before PGlite sees the connection', async () => {
    const wrong = client(served.url.replace(/:[0-9a-f]{64}@/, `:${'0'.repeat(64)}@`), 1);
    await expect(wrong`SELECT 1`).rejects.toThrow(/password authentication failed/);
  });

  it('closes a connection idle inside a transaction, rolls it back, and lets the others on', async () => {
    const holder = client(undefined, 1);
    const other = client(undefined, 1);
    const [before] = await other<{ balance: string }[]>`SELECT balance FROM accounts WHERE id = 1`;
    const reserved = await holder.reserve();
    await reserved`BEGIN`;
    await reserved`UPDATE accounts SET balance = 0 WHERE id = 1`;
    // The other client waits for the session until the holder is closed (1.5 s here), then reads the rolled-back row.
    const [row] = await other<{ balance: string }[]>`SELECT balance FROM accounts WHERE id = 1`;
    expect(Number(row!.balance)).toBe(Number(before!.balance));
    expect(Number(row!.balance)).not.toBe(0);
    // The holder's connection is gone (postgres.js wedges on a write to a closed connection: none is sent).
    expect(served.gate.queued).toBe(0);
  }, 30_000);

  it('names itself in a 0600 discovery file that clients locate it by', () => {
    const file = discoveryFile(pgliteDir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const found = readDiscovery(pgliteDir);
    expect(found.status).toBe('live');
    expect(found.status === 'live' && found.info).toMatchObject({ host: '127.0.0.1', port: served.port, pid: process.pid });
    expect(locateRecords({ dataDir: root, database: { url: null } })).toMatchObject({ kind: 'served', port: served.port, url: served.url });
    expect(locateRecords({ dataDir: root, database: { url: 'postgres://x@h/d' } })).toEqual({ kind: 'postgres', url: 'postgres://x@h/d' });
  });

  it('refuses a second server on the same records while the first lives', async () => {
    // The live file names this process; a file naming another live process refuses (pid 1 always lives).
    const other = join(root, 'other');
    writeFileSync(discoveryFile(other), JSON.stringify({ version: 1, host: '127.0.0.1', port: 1, pid: 1, password: 'a'.repeat(64), pgliteDir: other, startedAt: 'x' }), { mode: 0o600 });
    await expect(serveRecords({ pgliteDir: other, port: null })).rejects.toThrow(/already served by process 1/);
  });
});

describe('the discovery file when no worker serves', () => {
  const dir = join(root, 'crashed');
  const pglite = join(dir, 'pglite');
  const info = (pid: number) => JSON.stringify({ version: 1, host: '127.0.0.1', port: 5999, pid, password: 'b'.repeat(64), pgliteDir: pglite, startedAt: '2026-01-01T00:00:00Z' });

  it('a stale file (its process gone) sends clients to PGlite, and the crashed worker\'s postmaster.pid does not block them', () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(pglite, { recursive: true });
    writeFileSync(join(pglite, 'postmaster.pid'), '-42\n');
    utimesSync(join(pglite, 'postmaster.pid'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    writeFileSync(discoveryFile(pglite), info(deadPid()), { mode: 0o600 });
    expect(readDiscovery(pglite).status).toBe('stale');
    expect(locateRecords({ dataDir: dir, database: { url: null } })).toEqual({ kind: 'pglite', dataDir: pglite, leftoverPid: true });
    // A postmaster.pid newer than the stale file is another process's, opened after the crash.
    utimesSync(join(pglite, 'postmaster.pid'), new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
    expect(locateRecords({ dataDir: dir, database: { url: null } })).toMatchObject({ kind: 'pglite', leftoverPid: false });
  });

  it('no file: PGlite directly', () => {
    expect(locateRecords({ dataDir: join(root, 'fresh'), database: { url: null } })).toEqual({ kind: 'pglite', dataDir: join(root, 'fresh', 'pglite'), leftoverPid: false });
  });

  it('refuses a file others can read, or one that is not the server\'s, naming the file and field', () => {
    writeFileSync(discoveryFile(pglite), info(process.pid), { mode: 0o600 });
    chmodSync(discoveryFile(pglite), 0o644);
    expect(() => readDiscovery(pglite)).toThrow(/0600/);
    chmodSync(discoveryFile(pglite), 0o600);
    writeFileSync(discoveryFile(pglite), JSON.stringify({ ...JSON.parse(info(process.pid)), host: '10.0.0.1' }));
    const e = (() => {
      try {
        readDiscovery(pglite);
        return null;
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(InvalidInput);
    expect((e as Error).message).toMatch(/pglite\.socket\.json host.*loopback/);
    writeFileSync(discoveryFile(pglite), 'not json');
    expect(() => readDiscovery(pglite)).toThrow(/is not JSON/);
  });
});

describe('closing the server', () => {
  it('removes its discovery file and stops answering', async () => {
    const sql = client(served.url, 1);
    expect((await sql`SELECT 1 AS one`)[0]!.one).toBe(1);
    await served.close();
    expect(readDiscovery(pgliteDir).status).toBe('absent');
    await expect(sql`SELECT 1`).rejects.toThrow();
  }, 60_000);
});

describe('RECORDS_SOCKET_PORT', () => {
  it('is a port from 1 to 65535, unset meaning a free one; anything else is refused naming the variable and the value', () => {
    expect(loadConfig({}).recordsSocketPort).toBeNull();
    expect(loadConfig({ RECORDS_SOCKET_PORT: '15432' }).recordsSocketPort).toBe(15_432);
    for (const bad of ['0', '65536', 'abc', '-1', '1.5']) {
      expect(() => loadConfig({ RECORDS_SOCKET_PORT: bad }), bad).toThrow(new RegExp(`RECORDS_SOCKET_PORT.*${bad.replace('.', '\\.')}`));
    }
  });
});
