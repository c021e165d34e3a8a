/**
 * Venue credentials, read only from an environment object passed in (the worker passes
 * process.env; tests pass a literal). Secrets are wrapped so that logging, JSON-encoding or
 * string-interpolating them prints "[redacted]"; only a signer calls `reveal()`.
 * A bad or missing variable is reported by name, all at once, and never with its value.
 */
import { inspect } from 'node:util';
import { ErrorType, InvalidInput, type FieldProblem } from '../../domain/errors';

export type Env = Readonly<Record<string, string | undefined>>;

const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Reads the named variables; collects every missing or empty one into one InvalidConfig error. */
export function readEnv<K extends string>(env: Env, required: readonly K[], checks: Partial<Record<K, (v: string) => string | null>> = {}): Record<K, string> {
  const problems: FieldProblem[] = [];
  const out = {} as Record<K, string>;
  for (const name of required) {
    const v = env[name];
    if (v === undefined || v.trim() === '') {
      problems.push({ field: name, value: undefined, problem: 'environment variable is missing or empty' });
      continue;
    }
    const problem = checks[name]?.(v) ?? null;
    // The value of a credential variable is never echoed back.
    if (problem !== null) problems.push({ field: name, value: REDACTED, problem });
    else out[name] = v;
  }
  if (problems.length > 0) throw new InvalidInput(problems, ErrorType.InvalidConfig);
  return out;
}

export function checkUrl(v: string): string | null {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'must be an http(s) URL';
  } catch {
    return 'must be an http(s) URL';
  }
}

export interface PaperCredentials {
  baseUrl: string;
  keyId: string;
  secret: Secret;
}

export const PAPER_ENV = { url: 'PAPER_EXCHANGE_URL', keyId: 'PAPER_EXCHANGE_KEY_ID', secret: 'PAPER_EXCHANGE_SECRET' } as const;

export function loadPaperCredentials(env: Env): PaperCredentials {
  const v = readEnv(env, [PAPER_ENV.url, PAPER_ENV.keyId, PAPER_ENV.secret], { [PAPER_ENV.url]: checkUrl });
  return { baseUrl: v[PAPER_ENV.url], keyId: v[PAPER_ENV.keyId], secret: new Secret(v[PAPER_ENV.secret]) };
}
