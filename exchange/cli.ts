/**
 * Argument parsing and secret handling for the exchange CLI (exchange/main.ts), kept apart so
 * tests can check them without starting a process. Every bad argument is reported at once.
 */
import { existsSync, readFileSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { CASE_STUDY_FILL_MODEL, FILL_MODEL_PRESET_NAMES, parseFillModel, type FillModelParams } from '../domain/fill-model';
import { generateSecret } from './auth';
import { type FaultConfig, mergeFaults, NO_FAULTS } from './config';

export interface CliOptions {
  host: string;
  port: number;
  seed: number;
  dataDir: string;
  keyId: string;
  latencyMeanMs: number;
  fillModel: FillModelParams;
  faults: Partial<FaultConfig>;
  help: boolean;
}

export const USAGE = `usage: npm run exchange -- [options]
  --port N          TCP port (default 8787; 0 picks a free one)
  --host H          bind address (default 127.0.0.1)
  --seed N          seed for prices, fills and faults (default 1)
  --data-dir DIR    state and secrets directory (default data/exchange)
  --key-id ID       id of the dev trading key (default dev)
  --latency-ms N    mean simulated response latency (default 0)
  --fill-model M    paper fill model: a preset (${FILL_MODEL_PRESET_NAMES.join(', ')}; default
                    pre-live: fill probability 0.8, slippage sd 0.2 cents, 150 ms order latency)
                    or JSON, e.g. '{"preset":"post-live","latencyMeanMs":0}'
  --faults JSON     initial faults, e.g. '{"errorRate":0.05}'
secrets: PAPER_EXCHANGE_SECRET (dev key) and PAPER_EXCHANGE_ADMIN_TOKEN; when unset they are
generated once and kept in <data-dir>/dev-key.secret and <data-dir>/admin.token (mode 0600).`;

const INT_RE = /^-?\d{1,15}$/;

export function parseCliArgs(argv: readonly string[]): CliOptions {
  const out: CliOptions = { host: '127.0.0.1', port: 8787, seed: 1, dataDir: 'data/exchange', keyId: 'dev', latencyMeanMs: 0, fillModel: CASE_STUDY_FILL_MODEL, faults: {}, help: false };
  const problems: FieldProblem[] = [];
  const int = (flag: string, raw: string, min: number, max: number): number | null => {
    if (!INT_RE.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push({ field: flag, value: raw, problem: `must be an integer between ${min} and ${max}` });
      return null;
    }
    return Number(raw);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') {
      out.help = true;
      continue;
    }
    const value = argv[i + 1];
    const known = ['--port', '--host', '--seed', '--data-dir', '--key-id', '--latency-ms', '--fill-model', '--faults'];
    if (!known.includes(flag)) {
      problems.push({ field: flag, value: flag, problem: 'is not an option (see --help)' });
      continue;
    }
    if (value === undefined || value.startsWith('--')) {
      problems.push({ field: flag, value: value ?? null, problem: 'needs a value' });
      continue;
    }
    i++;
    switch (flag) {
      case '--port':
        out.port = int(flag, value, 0, 65_535) ?? out.port;
        break;
      case '--seed':
        out.seed = int(flag, value, -2_147_483_648, 4_294_967_295) ?? out.seed;
        break;
      case '--latency-ms':
        out.latencyMeanMs = int(flag, value, 0, 60_000) ?? out.latencyMeanMs;
        break;
      case '--fill-model':
        try {
          out.fillModel = parseFillModel(value.trimStart().startsWith('{') ? (JSON.parse(value) as unknown) : value, flag);
        } catch (e) {
          if (e instanceof InvalidInput) problems.push(...e.problems);
          else problems.push({ field: flag, value, problem: 'must be a preset name or a JSON object of fill model settings' });
        }
        break;
      case '--host':
        out.host = value;
        break;
      case '--data-dir':
        out.dataDir = value;
        break;
      case '--key-id':
        if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/.test(value)) problems.push({ field: flag, value, problem: 'must be 1-48 letters, digits, "_", "." or "-"' });
        else out.keyId = value;
        break;
      case '--faults':
        try {
          const parsed: unknown = JSON.parse(value);
          mergeFaults(NO_FAULTS, parsed, '--faults');
          out.faults = parsed as Partial<FaultConfig>;
        } catch (e) {
          if (e instanceof InvalidInput) problems.push(...e.problems);
          else problems.push({ field: flag, value, problem: 'must be a JSON object of fault settings' });
        }
        break;
    }
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return out;
}

/**
 * A secret from the environment, else from `<dir>/<file>`, else newly generated and written
 * there with mode 0600. Returns where it came from, never the value in any message.
 */
export function loadOrCreateSecret(envValue: string | undefined, dir: string, file: string): { secret: string; source: string } {
  if (envValue !== undefined && envValue.length > 0) {
    if (envValue.length < 16) throw InvalidInput.of(file, '<redacted>', 'secret from the environment must be at least 16 characters');
    return { secret: envValue, source: 'environment' };
  }
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  if (existsSync(path)) {
    const secret = readFileSync(path, 'utf8').trim();
    if (secret.length < 16) throw InvalidInput.of(path, '<redacted>', 'stored secret must be at least 16 characters');
    return { secret, source: path };
  }
  const secret = generateSecret();
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { secret, source: `${path} (generated)` };
}
