/** The soak's pure parts: its arguments, which files it runs, how it reads failures and counts. */
import { describe, expect, it } from 'vitest';
import { BOUNDARIES, failuresOf, parseSoakArgs, replayCommand, soakFiles, summaryTable } from '../../scripts/sweeps-soak';
import { PROJECT_ROOT } from '../../runtime/config';

describe('sweeps soak', () => {
  it('takes runs, scale, a minimum per boundary and file filters; refuses anything else naming it', () => {
    expect(parseSoakArgs([])).toEqual({ runs: 20, scale: null, minInputs: 0, filters: [] });
    expect(parseSoakArgs(['--runs', '3', '--scale=2.5', '--min-inputs', '10000', 'csv', 'config'])).toEqual({ runs: 3, scale: 2.5, minInputs: 10_000, filters: ['csv', 'config'] });
    expect(parseSoakArgs(['--runs', '0', '--scale', '-1', '--min-inputs', '1e4', '--seed', '5'])).toEqual({
      problems: [
        '--runs: expected a whole number of at least 1, got "0"',
        '--scale: expected a positive number, got "-1"',
        '--min-inputs: expected a whole number of at least 0, got "1e4"',
        'unknown option "--seed"',
      ],
    });
    expect(parseSoakArgs(['--runs'])).toEqual({ problems: ['--runs: expected a whole number of at least 1, got undefined'] });
  });

  it('runs every sweep and every file with a fast-check property, and each named boundary has a sweep', () => {
    const files = soakFiles(PROJECT_ROOT);
    for (const f of ['test/sweeps/cli.test.ts', 'test/sweeps/signals.test.ts', 'test/unit/ledger.property.test.ts', 'test/unit/money.test.ts']) expect(files).toContain(f);
    expect(files).not.toContain('test/unit/order.test.ts');
    expect(soakFiles(PROJECT_ROOT, ['csv'])).toEqual(['test/sweeps/csv.test.ts']);
    for (const boundary of Object.keys(BOUNDARIES)) expect(files).toContain(`test/sweeps/${boundary}.test.ts`);
  });

  it("reads fast-check's counterexample and the predicate's error from vitest's JSON report", () => {
    const report = {
      testResults: [
        {
          name: `${PROJECT_ROOT}/test/sweeps/csv.test.ts`,
          status: 'failed',
          assertionResults: [
            { fullName: 'quotes.csv a value (not a number) is refused', title: "a value (not a number) is refused", status: 'failed', failureMessages: ['Error: Property failed after 263 tests\n{ seed: -1657248251, path: "262:3", endOnFailure: true }\nCounterexample: ["ts","#"]\nShrunk 1 time(s)\nGot AssertionError: expected true to be false\n    at test/sweeps/csv.test.ts:76:24'] },
            { fullName: 'quotes.csv passes', status: 'passed', failureMessages: [] },
          ],
        },
        { name: `${PROJECT_ROOT}/test/sweeps/cli.test.ts`, status: 'failed', message: 'Hook timed out in 60000ms\n    at x', assertionResults: [] },
      ],
    };
    const failures = failuresOf(report, -1657248251, PROJECT_ROOT);
    expect(failures).toEqual([
      {
        seed: -1657248251,
        file: 'test/sweeps/csv.test.ts',
        test: 'quotes.csv a value (not a number) is refused',
        title: 'a value (not a number) is refused',
        details: ['Property failed after 263 tests', '{ seed: -1657248251, path: "262:3", endOnFailure: true }', 'Counterexample: ["ts","#"]', 'Shrunk 1 time(s)', 'Got AssertionError: expected true to be false'],
      },
      { seed: -1657248251, file: 'test/sweeps/cli.test.ts', test: '(the file itself)', title: null, details: ['Hook timed out in 60000ms'] },
    ]);
    expect(replayCommand(failures[0]!)).toBe("FC_SEED=-1657248251 npx vitest run test/sweeps/csv.test.ts -t 'a value \\(not a number\\) is refused'");
    expect(replayCommand(failures[1]!)).toBe('FC_SEED=-1657248251 npx vitest run test/sweeps/cli.test.ts');
  });

  it('sums the inputs per boundary over the runs and names the boundaries below the minimum or not run', () => {
    const { text, short } = summaryTable([{ cli: 506, csv: 1_363 }, { cli: 498, csv: 1_400 }], 1_000);
    expect(text.split('\n')).toEqual([
      'boundary  inputs per run (min-max)  total',
      'CLI                        498-506  1,004',
      'CSV                    1,363-1,400  2,763',
      'not run: config, signal and update payloads, venue responses, dashboard HTTP, exchange HTTP',
    ]);
    expect(short).toEqual([]);
    expect(summaryTable([{ cli: 499 }], 500).short).toEqual(['CLI']);
  });
});
