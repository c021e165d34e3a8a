/**
 * Bad-input sweep of the configuration (runtime/config.ts): hostile environment variables, config
 * files with wrong-typed, unknown, oversized or deeply nested fields, files that are not JSON or
 * cannot be read. Every bad input is one InvalidInput of type InvalidConfig naming the variable
 * or file field; nothing else escapes; secret values are never echoed; the file is not touched.
 * Through the CLI a bad config exits 2 before any record is opened.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type CliIo } from '../../cli/main';
import { ENV, FILE_SHAPE, buildConfig, loadConfig, type Env } from '../../runtime/config';
import { ErrorType, InvalidInput } from '../../domain/errors';
import { INJECTIONS, SweepCounter, deeplyNestedJson, hostileString, malformedJsonText, runs, wrongTyped } from './support';

const counter = new SweepCounter('config');

const SECRET_MARK = 'S3CRET-MARK-7f1c9e';
const SECRET_VARS = [ENV.paperSecret, ENV.smtpPass, ENV.databaseUrl] as const;

/** Variables with a strict format: a value holding quotes, angle brackets, ";", "$", "\" or NUL is never valid. */
const STRICT_VARS = [
  ENV.temporalAddress,
  ENV.temporalNamespace,
  ENV.temporalUiPort,
  ENV.temporalLocalPort,
  ENV.databaseUrl,
  ENV.paperUrl,
  ENV.smtpPort,
  ENV.smtpSecure,
  ENV.alertFrom,
  ENV.alertTo,
  ENV.timeZone,
  ENV.dailyResetCron,
  ENV.reconciliationPolicy,
  ENV.reconciliationEveryMinutes,
  ENV.reconciliationReminderMinutes,
  ENV.sessionStrategy,
  ENV.sessionStrategyName,
  ENV.sessionMarkets,
  ENV.sessionWatchPeriodMs,
  ENV.sessionPollIntervalMs,
  ENV.sessionOrderTtlMs,
  ENV.automationLevel,
  ENV.approvalTimeout,
  ENV.stage,
  ENV.liveConfirm,
  ENV.liveCapitalCap,
  ENV.metricsHost,
  ENV.metricsPort,
  ENV.logLevel,
] as const;
const SPECIAL = /[\u0000'"<>;$`\\{}]/;

const ALL_VARS = Object.values(ENV).filter((v) => v !== ENV.configFile);

/** The config, or the InvalidConfig error with every problem checked for a name and no secret. */
function outcome(fn: () => unknown, secrets: readonly string[] = []): InvalidInput | null {
  try {
    fn();
    return null;
  } catch (e) {
    expect(e, `only InvalidInput may escape, got ${String(e)}`).toBeInstanceOf(InvalidInput);
    const err = e as InvalidInput;
    expect(err.type).toBe(ErrorType.InvalidConfig);
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) {
      expect(p.field.length).toBeGreaterThan(0);
      expect(p.problem.length).toBeGreaterThan(0);
    }
    for (const s of secrets) expect(err.message).not.toContain(s);
    expect(err.message).not.toContain(SECRET_MARK);
    return err;
  }
}

describe('environment variables', () => {
  it('a hostile value in any variable is taken or refused naming that variable', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL_VARS), hostileString, (name, value) => {
        counter.tried('env: hostile value');
        const err = outcome(() => buildConfig({ [name]: value }));
        if (err !== null) expect(err.problems.some((p) => (Object.values(ENV) as string[]).includes(p.field))).toBe(true);
        if (err === null && (STRICT_VARS as readonly string[]).includes(name)) expect(SPECIAL.test(value.trim())).toBe(false);
      }),
      { numRuns: runs(500) },
    );
  });

  it('seed -1636029538: an address that nodemailer would read as other syntax is refused naming the variable', () => {
    counter.tried('env: pinned cases');
    const err = outcome(() => buildConfig({ [ENV.alertFrom]: 'NaN@!."' }));
    expect(err!.problems).toEqual([expect.objectContaining({ field: ENV.alertFrom, problem: 'must be an email address' })]);
    for (const bad of ['"a"@example.com', 'a@b.c,d@e.f', 'ops(x)@example.com', 'a\\b@example.com', 'a;b@example.com', '.a@example.com', 'a..b@example.com', 'a@-x.com', 'a@example', 'a@@example.com']) {
      counter.tried('env: pinned cases');
      expect(outcome(() => buildConfig({ [ENV.alertFrom]: bad }))?.problems.map((p) => p.field), bad).toEqual([ENV.alertFrom]);
    }
    for (const good of ['bot@example.com', 'ops+alerts@desk.example.co.uk', 'first.last_1%x@mail-1.example.org', 'trader@localhost']) {
      counter.tried('env: pinned cases');
      const smtp = buildConfig({ [ENV.smtpHost]: 'mail.local', [ENV.alertFrom]: good, [ENV.alertTo]: `${good}, b@example.com` }).smtp;
      expect(smtp, good).toMatchObject({ from: good, to: [good, 'b@example.com'] });
    }
  });

  it('levels of automation: AUTOMATION_LEVEL and APPROVAL_TIMEOUT are read from the environment or the file, and a bad one is refused naming it and its value', () => {
    counter.tried('env: pinned cases');
    expect(buildConfig({}).session.automation).toEqual({ level: 'full', approvalTimeoutMs: 300_000 });
    expect(buildConfig({ [ENV.automationLevel]: 'Semi-Auto', [ENV.approvalTimeout]: '90s' }).session.automation).toEqual({ level: 'semi-auto', approvalTimeoutMs: 90_000 });
    expect(buildConfig({}, { session: { automationLevel: 'alerts-only', approvalTimeout: '2m' } }).session.automation).toEqual({ level: 'alerts-only', approvalTimeoutMs: 120_000 });
    expect(buildConfig({ [ENV.automationLevel]: 'full' }, { session: { automationLevel: 'alerts-only' } }).session.automation.level).toBe('full');
    const err = outcome(() => buildConfig({ [ENV.automationLevel]: 'autopilot', [ENV.approvalTimeout]: '5 minutes' }));
    expect(err!.problems).toEqual([
      { field: ENV.automationLevel, value: 'autopilot', problem: 'must be one of alerts-only, semi-auto, full' },
      expect.objectContaining({ field: ENV.approvalTimeout, value: '5 minutes', problem: expect.stringMatching(/^must be a duration/) }),
    ]);
    for (const bad of ['0', '0s', '25h', '-1m', 'soon']) {
      counter.tried('env: pinned cases');
      expect(outcome(() => buildConfig({ [ENV.approvalTimeout]: bad }))?.problems.map((p) => [p.field, p.value]), bad).toEqual([[ENV.approvalTimeout, bad]]);
    }
    const fileErr = outcome(() => buildConfig({}, { session: { automationLevel: 3, approvalTimeout: true } }));
    expect(fileErr!.problems.map((p) => p.field)).toEqual(['config file session.automationLevel', 'config file session.approvalTimeout']);
  });

  it('a strict variable holding quotes, brackets, ";" or NUL is refused naming it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...STRICT_VARS), hostileString.filter((s) => SPECIAL.test(s.trim())), (name, value) => {
        counter.tried('env: strict variable, special characters');
        const err = outcome(() => buildConfig({ [name]: value }));
        expect(err).not.toBeNull();
        expect(err!.problems.map((p) => p.field)).toContain(name);
      }),
      { numRuns: runs(300) },
    );
  });

  it('many bad variables at once are all reported in one error', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...STRICT_VARS), { minLength: 2, maxLength: 8 }), fc.constantFrom(...INJECTIONS.filter((s) => SPECIAL.test(s))), (names, value) => {
        counter.tried('env: several bad variables');
        const err = outcome(() => buildConfig(Object.fromEntries(names.map((n) => [n, value]))));
        const fields = err!.problems.map((p) => p.field);
        for (const n of names) expect(fields).toContain(n);
      }),
      { numRuns: runs(100) },
    );
  });

  it('secret variables are never echoed, whatever else is wrong', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SECRET_VARS), hostileString, fc.constantFrom(...STRICT_VARS), hostileString, (secretVar, secretText, otherVar, otherValue) => {
        counter.tried('env: secrets beside bad values');
        const secret = `${secretText.replace(/\s/g, '')}${SECRET_MARK}`;
        const env: Env = { [secretVar]: secret, [otherVar]: otherValue, [ENV.paperUrl]: 'http://127.0.0.1:1', [ENV.smtpHost]: 'mail.local' };
        outcome(() => buildConfig(env), [secret]);
      }),
      { numRuns: runs(200) },
    );
  });
});

describe('config file', () => {
  const SHAPE = FILE_SHAPE;
  const fieldPaths = Object.entries(SHAPE).flatMap(([k, subs]) => (subs === null ? [[k]] : [[k], ...subs.map((s) => [k, s])]));

  it('a wrong-typed value in any field is taken or refused naming the file field', () => {
    fc.assert(
      fc.property(fc.constantFrom(...fieldPaths), wrongTyped, (path, value) => {
        counter.tried('file: wrong-typed field');
        const file = path.length === 1 ? { [path[0]!]: value } : { [path[0]!]: { [path[1]!]: value } };
        const err = outcome(() => buildConfig({}, file, 'cfg.json'));
        if (err !== null) expect(err.problems.some((p) => p.field.startsWith('cfg.json ') || (Object.values(ENV) as string[]).includes(p.field))).toBe(true);
      }),
      { numRuns: runs(500) },
    );
  });

  it('unknown settings and secrets in the file are refused by name', () => {
    fc.assert(
      fc.property(hostileString.filter((k) => !(k in SHAPE) && k !== 'database' && k !== '__proto__'), wrongTyped, (key, value) => {
        counter.tried('file: unknown setting');
        const err = outcome(() => buildConfig({}, { [key]: value, paperExchange: { secret: SECRET_MARK } }, 'cfg.json'));
        const fields = err!.problems.map((p) => p.field);
        expect(fields).toContain(`cfg.json ${key}`);
        expect(fields).toContain('cfg.json paperExchange.secret');
      }),
      { numRuns: runs(150) },
    );
  });

  describe('read from disk (DURABLE_TRADER_CONFIG)', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'sweep-config-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('malformed, oversized, deeply nested or non-object files are refused naming DURABLE_TRADER_CONFIG; the file is left as it was', () => {
      const bodies = fc.oneof(
        malformedJsonText,
        fc.constantFrom(
          '[]',
          '"text"',
          '42',
          'null',
          deeplyNestedJson(5_000),
          '['.repeat(200_000),
          `{"riskLimits":${deeplyNestedJson(3_000)}}`,
          `{"session":{"strategyParams":${deeplyNestedJson(3_000)}}}`,
          JSON.stringify({ dataDir: 'x'.repeat(2_000_000) }),
        ),
      );
      let i = 0;
      fc.assert(
        fc.property(bodies, (body) => {
          counter.tried('file: malformed or hostile file');
          const path = join(dir, `c-${i++}.json`);
          // Compared as bytes: a lone surrogate in `body` is written as U+FFFD, so the text would not round-trip.
          const bytes = Buffer.from(body, 'utf8');
          writeFileSync(path, bytes);
          const err = outcome(() => loadConfig({ [ENV.configFile]: path }));
          if (err !== null) expect(err.problems.some((p) => p.field === ENV.configFile || p.field.startsWith(`${ENV.configFile} file`))).toBe(true);
          expect(readFileSync(path).equals(bytes)).toBe(true);
        }),
        { numRuns: runs(120) },
      );
    });

    it('a path that cannot be read is refused naming DURABLE_TRADER_CONFIG', () => {
      for (const p of ['../../etc/definitely-not-here.json', join(dir, 'missing.json'), dir, 'a\u0000b.json', `${'x/'.repeat(3_000)}c.json`]) {
        counter.tried('file: unreadable path');
        const err = outcome(() => loadConfig({ [ENV.configFile]: p }));
        expect(err!.problems.map((x) => x.field)).toContain(ENV.configFile);
      }
    });
  });
});

describe('through the CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sweep-config-cli-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    counter.report();
  });

  it('a bad configuration exits 2 naming the variable, and no records are created', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...STRICT_VARS.filter((v) => v !== ENV.databaseUrl)), fc.constantFrom(...INJECTIONS.filter((s) => SPECIAL.test(s))), async (name, value) => {
        counter.tried('cli: bad configuration');
        const dataDir = join(dir, 'data');
        let stderr = '';
        const io: CliIo = { stdout: () => {}, stderr: (t) => void (stderr += t), env: { DATA_DIR: dataDir, [name]: value }, progressStream: null, now: () => Date.UTC(2026, 0, 5) };
        const code = await run(['orders'], io);
        expect(code, stderr).toBe(2);
        expect(stderr).toContain('bad configuration');
        expect(stderr).toContain(name);
        expect(stderr).not.toMatch(/\n\s+at /);
        expect(existsSync(dataDir)).toBe(false);
      }),
      { numRuns: runs(40) },
    );
  });
});
