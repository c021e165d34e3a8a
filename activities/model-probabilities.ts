/**
 * The live source of model probabilities for a strategy that sizes by Kelly (model-edge): a JSON
 * file or an HTTP endpoint the operator points at (MODEL_PROBABILITIES=file:/path.json or
 * http(s)://...). Read here, in an activity, never in workflow code. The document is
 *
 *   { "asOf": <epoch ms>, "probabilities": { "<marketId>": 0.62, ... } }
 *   or per market { "<marketId>": { "probability": 0.62, "asOf": <epoch ms> } }
 *
 * Every entry is checked: a probability strictly inside (0, 1) (Kelly at 0 or 1 bets everything),
 * a valid market ID, and a time no older than `maxAgeMs`: a stale model is refused rather than
 * sized on. Every bad field is reported at once, named with its value.
 */
import { readFile } from 'node:fs/promises';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { validateMarketId } from '../domain/market';

/** A model entry older than this is refused when the config names no other age (one hour). */
export const MODEL_PROBABILITIES_MAX_AGE_MS = 60 * 60_000;

export type ModelProbabilitySource = { kind: 'file'; path: string } | { kind: 'http'; url: string };

/** Parses the MODEL_PROBABILITIES setting; the error names the key and the value. */
export function parseModelProbabilitySource(value: string, field = 'MODEL_PROBABILITIES'): ModelProbabilitySource {
  if (value.startsWith('file:')) {
    const path = value.slice('file:'.length);
    if (path === '') throw InvalidInput.of(field, value, 'must name a file after "file:"');
    return { kind: 'file', path };
  }
  if (/^https?:\/\//.test(value)) {
    try {
      return { kind: 'http', url: new URL(value).toString() };
    } catch {
      throw InvalidInput.of(field, value, 'must be a valid http(s) URL');
    }
  }
  throw InvalidInput.of(field, value, 'must be file:/path.json or an http(s):// URL');
}

export interface ModelProbabilities {
  /** Market → probability of YES, each in (0, 1). */
  probabilities: Record<string, number>;
  /** Oldest entry time used. */
  asOf: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates a probabilities document read at `nowMs`; throws InvalidInput listing every bad field. */
export function validateModelProbabilities(doc: unknown, nowMs: number, maxAgeMs: number): ModelProbabilities {
  const problems: FieldProblem[] = [];
  if (!isObject(doc)) throw InvalidInput.of('modelProbabilities', doc, 'must be a JSON object');
  const topAsOf = doc.asOf;
  const entries = isObject(doc.probabilities) ? doc.probabilities : doc;
  if (topAsOf !== undefined && (!Number.isSafeInteger(topAsOf) || (topAsOf as number) <= 0)) problems.push({ field: 'asOf', value: topAsOf, problem: 'must be epoch milliseconds' });
  const out: Record<string, number> = {};
  let oldest = Infinity;
  for (const [marketId, entry] of Object.entries(entries)) {
    if (entries === doc && marketId === 'asOf') continue;
    const field = `probabilities.${marketId}`;
    try {
      validateMarketId(marketId, field);
    } catch (e) {
      if (e instanceof InvalidInput) problems.push(...e.problems);
      else throw e;
      continue;
    }
    const probability = isObject(entry) ? entry.probability : entry;
    const asOf = isObject(entry) && entry.asOf !== undefined ? entry.asOf : topAsOf;
    if (typeof probability !== 'number' || !(probability > 0 && probability < 1)) {
      problems.push({ field: isObject(entry) ? `${field}.probability` : field, value: probability, problem: 'must be a probability strictly between 0 and 1' });
      continue;
    }
    if (!Number.isSafeInteger(asOf) || (asOf as number) <= 0) {
      problems.push({ field: isObject(entry) ? `${field}.asOf` : 'asOf', value: asOf, problem: 'must be epoch milliseconds (the time the model gave it)' });
      continue;
    }
    const age = nowMs - (asOf as number);
    if (age > maxAgeMs) {
      problems.push({ field: isObject(entry) ? `${field}.asOf` : `${field} (asOf)`, value: asOf, problem: `is stale: ${age} ms old, more than ${maxAgeMs} ms` });
      continue;
    }
    if (age < -60_000) {
      problems.push({ field: isObject(entry) ? `${field}.asOf` : `${field} (asOf)`, value: asOf, problem: 'is in the future' });
      continue;
    }
    out[marketId] = probability;
    oldest = Math.min(oldest, asOf as number);
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return { probabilities: out, asOf: Number.isFinite(oldest) ? oldest : nowMs };
}

/** Reads and validates the operator's probabilities now. */
export async function readModelProbabilities(
  source: ModelProbabilitySource,
  opts: { nowMs: number; maxAgeMs: number; fetch?: typeof fetch; timeoutMs?: number },
): Promise<ModelProbabilities> {
  let text: string;
  if (source.kind === 'file') {
    text = await readFile(source.path, 'utf8');
  } else {
    const res = await (opts.fetch ?? fetch)(source.url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000), headers: { accept: 'application/json' } });
    if (!res.ok) throw InvalidInput.of('MODEL_PROBABILITIES', source.url, `answered HTTP ${res.status}`);
    text = await res.text();
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw InvalidInput.of('modelProbabilities', text.slice(0, 80), 'must be JSON');
  }
  return validateModelProbabilities(doc, opts.nowMs, opts.maxAgeMs);
}
