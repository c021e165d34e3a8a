/**
 * A dashboard action is journaled under its request ID before anything is signalled: the same
 * request ID with other content is refused (409) without reaching a session, and an exact replay
 * answers with the first outcome without signalling again.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listOperatorActions, openDatabase, startSession, type Database } from '../../db';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { startDashboard, type RunningDashboard } from '../../dashboard/server';

const TOKEN = 'action-replay-token-0123456789';
const DAY = '2026-01-05';
const SESSION = `session-mr-${DAY}`;

let database: Database;
let dash: RunningDashboard;
const signals: string[] = [];

beforeAll(async () => {
  database = await openDatabase({ kind: 'pglite', dataDir: null });
  await startSession(database.db, { sessionId: SESSION, strategy: 'mr', tradingDay: DAY, mode: 'PAPER', startedAt: Date.UTC(2026, 0, 5, 14) });
  const record = (kind: string) => async (workflowId: string) => void signals.push(`${kind}:${workflowId}`);
  dash = await startDashboard({
    db: database.db,
    limits: CASE_STUDY_LIMITS,
    temporal: { signalHalt: record('HALT'), signalResume: record('RESUME'), signalKillSwitch: record('KILL') },
    token: TOKEN,
    temporalUiUrl: 'http://127.0.0.1:8233',
    port: 0,
    log: () => {},
  });
});

afterAll(async () => {
  await dash?.close();
  await database?.close();
});

beforeEach(() => void signals.splice(0));

const post = (path: string, body: Record<string, unknown>) =>
  fetch(dash.url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });

const rowsFor = async (requestId: string) => (await listOperatorActions(database.db)).filter((r) => r.workflowId.endsWith(requestId));

describe('dashboard action request IDs', () => {
  it('a reused request ID with other content is refused before any session is signalled', async () => {
    const requestId = 'reuse-0000-0001';
    const first = await post('/api/halt', { operator: 'ann', reason: 'spread blew out', sessionId: SESSION, requestId });
    expect(first.status).toBe(202);
    expect(signals).toEqual([`HALT:${SESSION}`]);
    signals.splice(0);

    const reused = await post('/api/resume', { operator: 'ann', reason: 'all clear', sessionId: SESSION, requestId });
    expect(reused.status).toBe(409);
    expect(((await reused.json()) as { error: string }).error).toBe('RequestIdReused');
    expect(signals).toEqual([]);
    const rows = await rowsFor(requestId);
    expect(rows.map((r) => r.action)).toEqual(['HALT']);
  });

  it('an exact replay answers the first outcome and signals nothing again', async () => {
    const requestId = 'replay-0000-0002';
    const body = { operator: 'bob', reason: 'news pending', sessionId: SESSION, requestId };
    const first = await post('/api/halt', body);
    expect(first.status).toBe(202);
    const again = await post('/api/halt', body);
    expect(again.status).toBe(200);
    const answer = (await again.json()) as { replayed: boolean; signalled: string[] };
    expect(answer.replayed).toBe(true);
    expect(answer.signalled).toEqual([SESSION]);
    expect(signals).toEqual([`HALT:${SESSION}`]);
    const rows = await rowsFor(requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.details).toMatchObject({ via: 'dashboard', signalled: SESSION });
  });

  it('concurrent copies of one request signal once', async () => {
    const requestId = 'race-0000-0003';
    const body = { operator: 'cy', reason: 'double click', sessionId: SESSION, requestId };
    const answers = await Promise.all([post('/api/kill', body), post('/api/kill', body), post('/api/kill', body)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    expect(signals).toEqual([`KILL:${SESSION}`]);
  });
});
