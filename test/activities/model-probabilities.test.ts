/** The operator's model probabilities (file or HTTP): parsed, validated entry by entry, stale ones refused. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelProbabilitySource, readModelProbabilities, validateModelProbabilities } from '../../activities/model-probabilities';

const now = 1_800_000_000_000;
const MIN = 60_000;

describe('model probabilities', () => {
  it('parses the source setting and names the key and value when it is wrong', () => {
    expect(parseModelProbabilitySource('file:/srv/model.json')).toEqual({ kind: 'file', path: '/srv/model.json' });
    expect(parseModelProbabilitySource('https://model.example/p')).toEqual({ kind: 'http', url: 'https://model.example/p' });
    expect(() => parseModelProbabilitySource('ftp://x')).toThrow(/MODEL_PROBABILITIES.*file:\/path\.json.*ftp:\/\/x/);
    expect(() => parseModelProbabilitySource('file:')).toThrow(/MODEL_PROBABILITIES/);
  });

  it('accepts fresh probabilities in (0, 1), at the top level or per market', () => {
    expect(validateModelProbabilities({ asOf: now - MIN, probabilities: { 'PX-A': 0.62, 'PX-B': 0.1 } }, now, 5 * MIN)).toEqual({ probabilities: { 'PX-A': 0.62, 'PX-B': 0.1 }, asOf: now - MIN });
    expect(validateModelProbabilities({ 'PX-A': { probability: 0.3, asOf: now - 2 * MIN } }, now, 5 * MIN).probabilities).toEqual({ 'PX-A': 0.3 });
  });

  it('refuses every bad entry at once, naming the field and the value', () => {
    const doc = { asOf: now, probabilities: { 'PX-A': 1, 'PX-B': 0, 'PX-C': '0.5', 'bad id': 0.5, 'PX-D': { probability: 0.5, asOf: now - 10 * MIN } } };
    let message = '';
    try {
      validateModelProbabilities(doc, now, 5 * MIN);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/probabilities\.PX-A.*strictly between 0 and 1.*1/);
    expect(message).toMatch(/probabilities\.PX-B/);
    expect(message).toMatch(/probabilities\.PX-C.*0\.5/);
    expect(message).toMatch(/bad id/);
    expect(message).toMatch(/probabilities\.PX-D\.asOf.*stale/);
    expect(() => validateModelProbabilities({ probabilities: { 'PX-A': 0.5 } }, now, 5 * MIN)).toThrow(/asOf.*epoch milliseconds/);
  });

  it('reads a file and an HTTP endpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-'));
    const path = join(dir, 'p.json');
    writeFileSync(path, JSON.stringify({ asOf: now, probabilities: { 'PX-A': 0.55 } }));
    expect((await readModelProbabilities({ kind: 'file', path }, { nowMs: now, maxAgeMs: MIN })).probabilities).toEqual({ 'PX-A': 0.55 });
    const fakeFetch = (async () => new Response(JSON.stringify({ asOf: now, probabilities: { 'PX-B': 0.45 } }), { status: 200 })) as unknown as typeof fetch;
    expect((await readModelProbabilities({ kind: 'http', url: 'http://m/p' }, { nowMs: now, maxAgeMs: MIN, fetch: fakeFetch })).probabilities).toEqual({ 'PX-B': 0.45 });
    const down = (async () => new Response('no', { status: 503 })) as unknown as typeof fetch;
    await expect(readModelProbabilities({ kind: 'http', url: 'http://m/p' }, { nowMs: now, maxAgeMs: MIN, fetch: down })).rejects.toThrow(/HTTP 503/);
  });
});
