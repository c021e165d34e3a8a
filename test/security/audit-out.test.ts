/**
 * `audit --out` writes under a temporary name, then renames. A temporary name others can guess
 * (`<out>.partial`) lets someone who can write the directory plant a symlink there and have the
 * export overwrite any file the operator can write. The temporary file is now a random name in the
 * same directory, created exclusively (O_EXCL): a planted link is never followed.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertOrder, openDatabase } from '../../db';
import { run, type CliIo } from '../../cli/main';
import type { Price, Quantity } from '../../domain/money';

const NOW = Date.UTC(2026, 0, 15, 18);
const ORDER = 'ema-mr-20260115-000001';
const VICTIM_TEXT = 'the operator\'s own file\n';

let root: string;
let dataDir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'audit-out-'));
  dataDir = join(root, 'data');
  const database = await openDatabase({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
  await insertOrder(database.db, { clientOrderId: ORDER, marketId: 'FED-RATE-CUT', side: 'BUY', quantity: 10 as Quantity, limitPrice: 430_000 as Price, strategy: 'ema-mr', tradingDay: '2026-01-15', createdAt: NOW - 60_000 });
  await database.close();
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { DATA_DIR: dataDir, OPERATOR: 'tester' }, progressStream: null, now: () => NOW, osUser: () => 'os-user' };
  return { code: await run(argv, io), stdout, stderr };
}

describe('audit --out', () => {
  it('does not follow a symlink planted at <out>.partial', async () => {
    const dir = join(root, 'planted');
    mkdirSync(dir);
    const victim = join(root, 'victim.txt');
    writeFileSync(victim, VICTIM_TEXT);
    const out = join(dir, 'trail.json');
    symlinkSync(victim, `${out}.partial`);

    const result = await cli(['audit', ORDER, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM_TEXT);
    expect(lstatSync(out).isSymbolicLink()).toBe(false);
    expect((JSON.parse(readFileSync(out, 'utf8')) as { clientOrderId: string }).clientOrderId).toBe(ORDER);
    // The planted link is left where it was, and nothing of ours is left behind.
    expect(lstatSync(`${out}.partial`).isSymbolicLink()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['trail.json', 'trail.json.partial']);
  });

  it('writes the export readable by its owner only, and leaves no temporary file when it fails', async () => {
    const dir = join(root, 'modes');
    mkdirSync(dir);
    const out = join(dir, 'trail.json');
    expect((await cli(['audit', ORDER, '--out', out])).code).toBe(0);
    expect(lstatSync(out).mode & 0o077).toBe(0);

    const missing = join(root, 'no-such-dir', 'trail.json');
    const failed = await cli(['audit', ORDER, '--out', missing]);
    expect(failed.code).not.toBe(0);
    expect(existsSync(join(root, 'no-such-dir'))).toBe(false);
  });
});
