/**
 * Text from the records reaches an operator's terminal. A reason holding CR and ANSI escapes
 * could overprint a journal line (a HALT shown as "RESUMED"): the CLI prints every control
 * character escaped, and every acting surface refuses them in the operator and reason fields.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, recordOperatorAction } from '../../db';
import { operatorActions } from '../../db/schema';
import { run, type CliIo } from '../../cli/main';
import { fields, printable, table } from '../../cli/format';
import { MAX_REASON_LENGTH, operatorTextProblem } from '../../domain/operator-request';
import { parseActionBody } from '../../dashboard/server';

const NOW = Date.UTC(2026, 0, 15, 18);
const FORGED = 'checked\r\u001b[2K\u001b[32m2026-01-15 18:00:00Z  RESUME  ann\u001b[0m';
const CONTROL_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'control-chars-'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(argv: string[], dataDir: string) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { DATA_DIR: dataDir, OPERATOR: 'tester', TEMPORAL_ADDRESS: '127.0.0.1:1' }, progressStream: null, now: () => NOW, connectTimeoutMs: 500, osUser: () => 'os-user' };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

describe('CLI output escapes control characters', () => {
  it('a forged journal reason prints escaped, on one line', async () => {
    const dir = join(root, 'forged');
    const database = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'pglite') });
    // Written past the repository's checks, as an older version or another writer might have left it.
    await database.db.insert(operatorActions).values({ workflowId: 'session-mr-2026-01-15', sequence: 1, action: 'HALT', operator: 'ann\u001b]0;pwned\u0007', reason: FORGED, details: { note: 'x\u001b[1A' }, occurredAt: NOW - 1_000 });
    await database.close();

    const out = await cli(['journal'], dir);
    expect(out.code).toBe(0);
    expect(out.stdout).not.toMatch(CONTROL_RE);
    expect(out.stdout).not.toContain('\r');
    expect(out.stdout).toContain('checked\\r\\x1b[2K\\x1b[32m');
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/HALT/);

    const asJson = await cli(['journal', '--json'], dir);
    expect(asJson.stdout).not.toMatch(CONTROL_RE);
    expect((JSON.parse(asJson.stdout) as { reason: string }[])[0]!.reason).toBe(FORGED);
  });

  it('table, fields and printable escape C0, DEL, C1 and bidi controls, keeping text and width', () => {
    expect(printable('a\tb\nc\r\u001b[0m\u007f\u009b\u202eZ\\')).toBe('a\\tb\\nc\\r\\x1b[0m\\x7f\\x9b\\u202eZ\\');
    expect(printable('line one\nline two\u001b', { keepNewlines: true })).toBe('line one\nline two\\x1b');
    const t = table([{ header: 'reason' }, { header: 'n', align: 'right' }], [['a\rb', '1'], ['ok', '22']]);
    expect(t).not.toMatch(CONTROL_RE);
    expect(t.split('\n')).toEqual(['reason   n', '------  --', 'a\\rb     1', 'ok      22', '']);
    expect(fields([['reason', 'x\u001b[2K']])).toBe('reason: x\\x1b[2K\n');
  });
});

describe('operator and reason refuse control characters at input', () => {
  for (const bad of ['ann\u001b[2K', 'a\rb', 'tab\there', 'line\nbreak', 'nul\u0000', 'del\u007f', 'csi\u009b', 'rtl\u202eevil']) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      expect(operatorTextProblem(bad, MAX_REASON_LENGTH)).toMatch(/control character/);
    });
  }

  it('accepts ordinary text, accents and emoji', () => {
    expect(operatorTextProblem('Zoë – spread > 5¢ 🚨', MAX_REASON_LENGTH)).toBeNull();
  });

  it('the dashboard names the field and the journal repository refuses the row', async () => {
    expect(() => parseActionBody({ operator: 'ann', reason: FORGED })).toThrow(/reason: .*control character/);
    const database = await openDatabase({ kind: 'pglite', dataDir: null });
    try {
      await expect(recordOperatorAction(database.db, { action: 'HALT', operator: 'ann', reason: FORGED, workflowId: 'cli-x', sequence: 0, details: {}, at: NOW })).rejects.toThrow(/reason/);
    } finally {
      await database.close();
    }
  });

  it('the CLI refuses a reason with control characters and sends nothing', async () => {
    const out = await cli(['halt', '--reason', FORGED], join(root, 'refused'));
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/--reason/);
    expect(out.stderr).not.toMatch(CONTROL_RE);
  });
});
